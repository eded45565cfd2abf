package dev.genmesh.region.queue.impl;

import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.queue.QueueEntry;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.requests.ProgressHub;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.region.scheduler.IdleWorkers;
import dev.genmesh.region.scheduler.Routing;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves QUEUED requests that allow it ({@code allow_fallback}) from a model whose breaker is open
 * to the model's fallback, as the breakers' {@code target} says: new submits before they are
 * queued, and the ones already waiting by a sweep. Each move is one compare-and-set in the log
 * with a {@code fallback} event; the request is then queued again with the new routing data.
 */
public final class FallbackMover {
  private static final Logger LOG = LoggerFactory.getLogger(FallbackMover.class);
  public static final String FALLBACKS = "genmesh.breaker.fallbacks";
  /** Requests one sweep of one model looks at; the next sweep (every second while open) goes on. */
  static final int SWEEP_PAGE = 200;

  private final String region;
  private final RequestLog log;
  private final TierQueue queue;
  private final ProgressHub hub;
  private final IdleWorkers idle;
  private final Routing routing;
  private final MeterRegistry meters;
  private final Clock clock;

  public FallbackMover(RegionContext ctx, Routing routing) {
    this.region = ctx.region();
    this.log = ctx.log();
    this.queue = ctx.queue();
    this.hub = ctx.hub();
    this.idle = ctx.idle();
    this.routing = routing;
    this.meters = ctx.meters();
    this.clock = ctx.clock();
  }

  /** A new request, committed but not queued yet: the row to queue (moved, or as it was). Never fails. */
  public Future<RequestLog.Submitted> atSubmit(RequestLog.Submitted submitted,
      Function<GenerationSpec, Optional<String>> target) {
    RequestRow row = submitted.row();
    if (!submitted.created() || row.status() != RequestStatus.QUEUED) {
      return Future.succeededFuture(submitted);
    }
    Optional<String> to = target.apply(row.generationSpec());
    if (to.isEmpty()) {
      return Future.succeededFuture(submitted);
    }
    return move(row, to.get())
        .map(change -> change.map(c -> new RequestLog.Submitted(c.row(), submitted.queuedEvent())).orElse(submitted))
        .otherwise(err -> {
          LOG.warn("[{}] not moved to fallback {} ({}); it waits for {}", row.id(), to.get(), err.toString(), row.model());
          return submitted;
        });
  }

  /** Moves the waiting requests of {@code model} that {@code target} sends elsewhere; answers how many moved. */
  public Future<Integer> sweep(String model, Function<GenerationSpec, Optional<String>> target) {
    return log.queuedWithFallback(model, SWEEP_PAGE).compose(rows -> {
      Future<Integer> chain = Future.succeededFuture(0);
      for (RequestRow row : rows) {
        chain = chain.compose(moved -> sweepOne(row, target).map(done -> done ? moved + 1 : moved));
      }
      return chain;
    }).onSuccess(moved -> {
      if (moved > 0) {
        LOG.info("region {}: {} queued request(s) of {} moved to its fallback", region, moved, model);
      }
    });
  }

  /**
   * Out of Redis first, so no claim can take it with the old routing data meanwhile; a request a
   * claim holds right now is not waiting and is left for the next sweep.
   */
  private Future<Boolean> sweepOne(RequestRow row, Function<GenerationSpec, Optional<String>> target) {
    Optional<String> to = target.apply(row.generationSpec());
    if (to.isEmpty()) {
      return Future.succeededFuture(false);
    }
    return queue.take(row.id(), row.tier()).compose(taken -> {
      if (!taken) {
        return Future.succeededFuture(false);
      }
      return move(row, to.get())
          .compose(change -> change.isPresent()
              ? enqueue(change.get().row()).map(true)
              : log.find(row.id()).compose(now -> requeueIfWaiting(now)).map(false))
          .recover(err -> {
            LOG.warn("[{}] fallback to {} failed ({}); queued again for {}", row.id(), to.get(), err.toString(), row.model());
            return enqueue(row).map(false);
          });
    });
  }

  private Future<Optional<RequestLog.Change>> move(RequestRow row, String to) {
    String from = row.model();
    JsonObject data = new JsonObject().put("from", from).put("to", to).put("reason", "model " + from + " circuit open");
    return log.fallback(row.id(), from, to, data, routing.requestClass(row.generationSpec().withModel(to))).onSuccess(change -> change.ifPresent(c -> {
      hub.publish(c.event());
      meters.counter(FALLBACKS, "region", region, "from", from, "to", to).increment();
      LOG.info("[{}] moved from {} to its fallback {}: {} circuit open", row.id(), from, to, from);
    }));
  }

  /** Someone else changed the row meanwhile: queue it again as the log has it, if it still waits. */
  private Future<Void> requeueIfWaiting(Optional<RequestRow> row) {
    return row.isPresent() && row.get().status() == RequestStatus.QUEUED ? enqueue(row.get()) : Future.succeededFuture();
  }

  /** Queued again, an idle worker is woken for it. A failure leaves the row QUEUED in the log; the queue rebuild puts it back in Redis. */
  private Future<Void> enqueue(RequestRow row) {
    QueueEntry entry = routing.entry(row, false);
    return queue.enqueue(List.of(entry), clock.millis()).<Void>map(added -> {
      idle.queued(entry);
      return null;
    }).recover(err -> {
      LOG.warn("[{}] not queued again in Redis ({}); the queue rebuild will queue it", row.id(), err.toString());
      return Future.succeededFuture();
    });
  }
}
