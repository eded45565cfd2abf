package dev.genmesh.region.autoscale.impl;

import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.scaling.ScalingDecision;
import dev.genmesh.protocol.scaling.WarmupOrder;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers a starting worker's {@link WarmupOrder.Ask} on {@link Addresses#warmup}: the models it
 * asked about, most wanted first (docs/autoscaling.md, "Warm-up order"): first what the latest
 * scale-up plan for its pool still owes a new worker ({@link #plan}, {@link #listen}), then recent
 * demand in the request log, then its configured order. Every node answers, leading or not.
 * Runs on the event loop of the verticle that starts it.
 */
public final class WarmupAdvisor {
  public static final String ANSWERS = "genmesh.autoscale.warmup.answers";
  public static final String DEMAND_FAILURES = "genmesh.autoscale.warmup.demand.failures";
  static final int DEMAND_WINDOW_SECONDS = 3600;
  private static final int SEEN_LIMIT = 1024;
  private static final String DEMAND = "SELECT model, count(*) AS n FROM requests"
      + " WHERE created_at > now() - make_interval(secs => " + DEMAND_WINDOW_SECONDS + ") GROUP BY model";
  private static final Logger LOG = LoggerFactory.getLogger(WarmupAdvisor.class);

  /** Workers of one family a plan still owes its pool. */
  private static final class Owed {
    final String family;
    int remaining;
    final Instant expires;

    Owed(String family, int remaining, Instant expires) {
      this.family = family;
      this.remaining = remaining;
      this.expires = expires;
    }
  }

  private final Vertx vertx;
  private final String region;
  private final Pool pool;
  private final Function<String, String> modelFamily;
  private final long refreshMs;
  private final long planTtlMs;
  private final Clock clock;
  private final MeterRegistry meters;
  private final Map<String, List<Owed>> owed = new HashMap<>();
  /** Decisions already planned (time, pool, from, to), so the direct hand-in and the event count once. */
  private final java.util.Set<String> seen = new java.util.LinkedHashSet<>();
  private Map<String, Long> demand = Map.of();
  private Instant demandAt;
  private Future<Map<String, Long>> refreshing;
  private MessageConsumer<Object> consumer;

  /**
   * @param modelFamily model → its {@code model_mix} family ({@code GenmeshConfig::modelFamily})
   * @param refreshMs the demand is read from the log at most this often ({@code evaluation_interval_ms})
   * @param planTtlMs a plan's counts are handed out until this long after the decision ({@code cold_start_ms})
   */
  public WarmupAdvisor(Vertx vertx, String region, Pool pool, Function<String, String> modelFamily, long refreshMs,
      long planTtlMs, Clock clock, MeterRegistry meters) {
    this.vertx = vertx;
    this.region = region;
    this.pool = pool;
    this.modelFamily = modelFamily;
    this.refreshMs = refreshMs;
    this.planTtlMs = planTtlMs;
    this.clock = clock;
    this.meters = meters;
  }

  public Future<Void> start() {
    consumer = vertx.eventBus().consumer(Addresses.warmup(region), this::handle);
    return consumer.completion();
  }

  public Future<Void> stop() {
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }

  /** Takes plans from the region's decision events too (published by whichever node leads). */
  public MessageConsumer<JsonObject> listen() {
    return vertx.eventBus().<JsonObject>consumer(Addresses.scalingDecisions(region), message -> {
      try {
        plan(ScalingDecision.fromJson(message.body()));
      } catch (RuntimeException e) {
        LOG.warn("{}: a scaling decision event could not be read ({}); its plan is not used", region, e.toString());
      }
    });
  }

  /** The autoscaler's decision: a scale-up's {@code warm_models} are owed to the pool's next workers. */
  public synchronized void plan(ScalingDecision decision) {
    if (!seen.add(decision.time() + "/" + decision.pool() + "/" + decision.from() + "/" + decision.to())) {
      return;
    }
    while (seen.size() > SEEN_LIMIT) {
      seen.remove(seen.iterator().next());
    }
    if (decision.to() < decision.from()) {
      owed.remove(decision.pool()); // the starting workers go first, and so do their plans
      return;
    }
    Instant expires = clock.instant().plusMillis(planTtlMs);
    decision.warmModels().forEach((family, count) -> {
      if (count > 0) {
        owed.computeIfAbsent(decision.pool(), k -> new ArrayList<>()).add(new Owed(family, count, expires));
      }
    });
  }

  /** Workers the plans still owe the pool (for tests and logs). */
  synchronized int owed(String pool) {
    return owed.getOrDefault(pool, List.of()).stream().mapToInt(entry -> entry.remaining).sum();
  }

  /** The consumer of {@link Addresses#warmup} (the region node registers it with its other consumers). */
  public void handle(Message<Object> message) {
    WarmupOrder.Ask ask = message.body() instanceof JsonObject json ? parse(json) : null;
    if (ask == null || ask.workerId() == null || ask.workerId().isBlank()) {
      message.fail(BusFailure.BAD_MESSAGE, "a warm-up ask needs a JSON body with worker_id and models");
      return;
    }
    answer(ask).onSuccess(answer -> message.reply(answer.toJson()))
        .onFailure(err -> message.fail(BusFailure.UNAVAILABLE, err.toString()));
  }

  private static WarmupOrder.Ask parse(JsonObject json) {
    try {
      return WarmupOrder.Ask.fromJson(json);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** The order for this worker (a plan's count is used up by answering). Never fails for want of demand data. */
  public Future<WarmupOrder.Answer> answer(WarmupOrder.Ask ask) {
    return demand().map(recent -> {
      List<String> asked = List.copyOf(new LinkedHashSet<>(ask.models()));
      String family = takeOwed(ask.gpuClass(), asked);
      Comparator<String> order = Comparator.comparingInt((String model) -> family != null && family.equals(modelFamily.apply(model)) ? 0 : 1)
          .thenComparing(model -> -recent.getOrDefault(model, 0L))
          .thenComparingInt(asked::indexOf);
      List<String> models = asked.stream().sorted(order).toList();
      String reason = family != null ? "plan"
          : asked.stream().anyMatch(model -> recent.getOrDefault(model, 0L) > 0) ? "demand" : "configured";
      WarmupOrder.Answer answer = new WarmupOrder.Answer(models, family, reason);
      meters.counter(ANSWERS, "region", region, "reason", reason).increment();
      LOG.info("{}: warm-up order for worker {} ({}): {} ({}{})", region, ask.workerId(), ask.gpuClass(), models, reason,
          family == null ? "" : ", family " + family);
      return answer;
    });
  }

  /** The first family the pool's plans still owe that this worker can load; counts it as handed out. */
  private synchronized String takeOwed(String gpuClass, List<String> asked) {
    List<Owed> pending = gpuClass == null ? null : owed.get(gpuClass);
    if (pending == null) {
      return null;
    }
    Instant now = clock.instant();
    pending.removeIf(entry -> !now.isBefore(entry.expires));
    for (Iterator<Owed> it = pending.iterator(); it.hasNext(); ) {
      Owed entry = it.next();
      if (asked.stream().map(modelFamily).anyMatch(entry.family::equals)) {
        if (--entry.remaining <= 0) {
          it.remove();
        }
        return entry.family;
      }
    }
    return null;
  }

  /** Requests per model over the last hour: the cached figures, read again once they are {@code refreshMs} old. */
  private Future<Map<String, Long>> demand() {
    Instant now = clock.instant();
    if (demandAt != null && now.isBefore(demandAt.plusMillis(refreshMs))) {
      return Future.succeededFuture(demand);
    }
    if (refreshing != null) {
      return refreshing;
    }
    Future<Map<String, Long>> read = pool.query(DEMAND).execute().map(rows -> {
      Map<String, Long> counts = new HashMap<>();
      for (Row row : rows) {
        counts.put(row.getString("model"), row.getLong("n"));
      }
      return Map.copyOf(counts);
    }).otherwise(err -> {
      meters.counter(DEMAND_FAILURES, "region", region).increment();
      LOG.warn("{}: recent demand per model not read ({}); warm-up orders use the last figures", region, err.toString());
      return demand;
    });
    refreshing = read;
    read.onComplete(ar -> {
      demand = ar.result();
      demandAt = now;
      refreshing = null;
    });
    return read;
  }
}
