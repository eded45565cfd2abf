package dev.genmesh.region.api.impl;

import dev.genmesh.breakers.Breakers;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.scaling.ScalingDecision;
import dev.genmesh.region.autoscale.impl.ScalingDecisionLog;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.workers.KnownWorker;
import io.vertx.core.Future;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /internal/ops}: what the operator console (the edge's {@code /ops}) needs from a region
 * that no other route gives: queue depth and oldest wait per tier, breaker states, the autoscaler's
 * decisions of the last hour and the region's recent alerts (heard on {@code genmesh.alerts}).
 * Internal, like {@code /failover/*}: the regional port is for the edge and operators only.
 */
public final class OpsRoutes {
  public static final String PATH = "/internal/ops";
  private static final Logger LOG = LoggerFactory.getLogger(OpsRoutes.class);
  /** Alerts kept per node; the console shows the newest. */
  static final int MAX_ALERTS = 100;
  static final int MAX_DECISIONS = 100;
  static final Duration DECISIONS_WINDOW = Duration.ofHours(1);

  private final RegionContext ctx;
  private final Supplier<Breakers> breakers;
  private final Supplier<Collection<KnownWorker>> workers;
  private final BiFunction<Instant, Instant, Future<List<ScalingDecision>>> decisions;
  private final Deque<JsonObject> alerts = new ArrayDeque<>();

  /** @param decisions the region's scaling decisions between two instants, oldest first */
  public OpsRoutes(RegionContext ctx, Supplier<Breakers> breakers, Supplier<Collection<KnownWorker>> workers,
      BiFunction<Instant, Instant, Future<List<ScalingDecision>>> decisions) {
    this.ctx = ctx;
    this.breakers = breakers;
    this.workers = workers;
    this.decisions = decisions;
  }

  /** Listens to {@code genmesh.alerts}; the caller unregisters the consumer when the node stops. */
  public MessageConsumer<Object> listen() {
    return ctx.vertx().eventBus().consumer(Addresses.ALERTS, message -> {
      if (message.body() instanceof JsonObject alert && ctx.region().equals(alert.getString("region"))) {
        synchronized (alerts) {
          alerts.addLast(alert.copy());
          while (alerts.size() > MAX_ALERTS) {
            alerts.removeFirst();
          }
        }
      }
    });
  }

  public void mount(Router router) {
    router.get(PATH).handler(this::show);
  }

  /**
   * Mounts the route over the region's {@code scaling_decisions} table and starts listening to
   * alerts; returns the consumer, for the node to unregister when it stops.
   */
  public static MessageConsumer<Object> mount(Router router, RegionContext ctx, Supplier<Breakers> breakers,
      Supplier<Collection<KnownWorker>> workers, Pool pool) {
    ScalingDecisionLog log = new ScalingDecisionLog(pool);
    OpsRoutes ops = new OpsRoutes(ctx, breakers, workers, (from, to) -> log.between(ctx.region(), from, to));
    ops.mount(router);
    return ops.listen();
  }

  private void show(RoutingContext rc) {
    Instant now = ctx.clock().instant();
    JsonObject body = new JsonObject().put("region", ctx.region()).put("at", now.toString())
        .put("queues", queues()).put("breakers", breakerStates()).put("alerts", recentAlerts());
    decisions.apply(now.minus(DECISIONS_WINDOW), now.plusSeconds(1))
        .map(found -> {
          JsonArray list = new JsonArray();
          found.stream().skip(Math.max(0, found.size() - MAX_DECISIONS)).forEach(d -> list.add(d.toJson()));
          return list;
        })
        .otherwise(failed -> {
          // The console still gets queues, breakers and alerts; it shows decisions as unknown.
          LOG.warn("region {}: cannot read scaling decisions for the ops view ({})", ctx.region(), failed.toString());
          ctx.metrics().systemError("ops_decisions");
          return null;
        })
        .onSuccess(list -> {
          rc.response().putHeader("Cache-Control", "no-store");
          JsonReplies.json(rc, 200, body.put("scaling_decisions", list));
        });
  }

  private JsonObject queues() {
    JsonObject queues = new JsonObject();
    for (Tier tier : Tier.values()) {
      queues.put(tier.wireName(), new JsonObject().put("depth", ctx.metrics().depth(tier))
          .put("oldest_wait_ms", ctx.metrics().oldestAgeMs(tier)));
    }
    return queues;
  }

  private JsonObject breakerStates() {
    Breakers board = breakers.get();
    if (board == null) {
      return new JsonObject();
    }
    JsonObject models = new JsonObject();
    ctx.config().models().keySet().stream().sorted().forEach(m -> models.put(m, board.modelState(m).wireName()));
    JsonObject perWorker = new JsonObject();
    workers.get().stream().map(KnownWorker::workerId).sorted(Comparator.naturalOrder())
        .forEach(id -> perWorker.put(id, board.workerState(id).wireName()));
    JsonArray shed = new JsonArray();
    board.shedTiers().stream().sorted().forEach(tier -> shed.add(tier.wireName()));
    return new JsonObject()
        .put("global", new JsonObject().put("state", board.globalState().wireName())
            .put("failure_rate", board.globalFailureRate()).put("shed_tiers", shed))
        .put("models", models)
        .put("workers", perWorker);
  }

  private JsonArray recentAlerts() {
    synchronized (alerts) {
      return new JsonArray(List.copyOf(alerts));
    }
  }
}
