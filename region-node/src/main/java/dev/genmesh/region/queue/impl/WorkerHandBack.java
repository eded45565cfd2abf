package dev.genmesh.region.queue.impl;

import dev.genmesh.breakers.RegionBreakers;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.queue.QueueEntry;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.requests.ProgressHub;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.region.scheduler.IdleWorkers;
import dev.genmesh.region.scheduler.Routing;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a region does when a worker's breaker opens: the requests assigned to it that it has not
 * started go back to the queue at once, and a replacement is asked for. A put-back, not a retry:
 * retry count, priority and backoff stay (docs/architecture.md, I4); the next claim runs it as
 * attempt + 1, so the old worker's reports are stale (I3). Running requests are left alone. The
 * same put-back serves an assignment that a waiting claim's worker did not acknowledge.
 */
public final class WorkerHandBack {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerHandBack.class);
  /** The reason of a put-back whose worker did not acknowledge the assignment a waiting claim got. */
  public static final String NOT_ACKNOWLEDGED = "not_acknowledged";

  private final Vertx vertx;
  private final String region;
  private final RequestLog log;
  private final TierQueue queue;
  private final ProgressHub hub;
  private final IdleWorkers idle;
  private final Routing routing;
  private final Function<String, String> gpuClassOf;
  private final Clock clock;

  /** @param gpuClassOf the GPU class a worker reported (null when unknown) */
  public WorkerHandBack(RegionContext ctx, Routing routing, Function<String, String> gpuClassOf) {
    this.vertx = ctx.vertx();
    this.region = ctx.region();
    this.log = ctx.log();
    this.queue = ctx.queue();
    this.hub = ctx.hub();
    this.idle = ctx.idle();
    this.routing = routing;
    this.gpuClassOf = gpuClassOf;
    this.clock = ctx.clock();
  }

  /** Publishes {@code {region, worker_id, reason, gpu_class}} on {@link Addresses#replacements}. */
  public void requestReplacement(String workerId, String reason) {
    vertx.eventBus().publish(Addresses.replacements(region), new JsonObject()
        .put("region", region)
        .put("worker_id", workerId)
        .put("reason", reason)
        .put("gpu_class", gpuClassOf.apply(workerId)));
  }

  /** Answers how many requests went back to the queue. */
  public Future<Integer> handBack(String workerId, String why) {
    return log.assignedNotStarted(workerId).compose(rows -> {
      Future<Integer> chain = Future.succeededFuture(0);
      for (RequestRow row : rows) {
        chain = chain.compose(count -> handBack(row, RegionBreakers.WORKER_OPEN, why).map(done -> done ? count + 1 : count));
      }
      return chain;
    }).onSuccess(count -> {
      if (count > 0) {
        LOG.info("region {}: {} request(s) assigned to worker {} handed back to the queue", region, count, workerId);
      }
    });
  }

  /**
   * Puts one request assigned to {@code row.workerId()} and not started back in the queue, with a
   * {@code queued} event of {@code reason}, and wakes a worker for it; false if it started or
   * moved on meanwhile.
   */
  public Future<Boolean> handBack(RequestRow row, String reason, String why) {
    JsonObject data = new JsonObject()
        .putNull("position")
        .putNull("queue_position")
        .putNull("eta_ms")
        .put("retry_count", row.retryCount())
        .put("reason", reason)
        .put("message", why)
        .put("worker", row.workerId());
    return log.handBack(row.id(), row.attempt(), row.workerId(), data).compose(change -> {
      if (change.isEmpty()) {
        return Future.succeededFuture(false);
      }
      hub.publish(change.get().event());
      LOG.info("[{}] handed back from worker {} (attempt {} not started): {}", row.id(), row.workerId(), row.attempt(), why);
      // A retry entry: the enqueue script deletes the lease the old worker held.
      QueueEntry entry = routing.entry(change.get().row(), true);
      return queue.enqueue(List.of(entry), clock.millis()).map(added -> {
        idle.queued(entry);
        return true;
      }).recover(err -> {
        LOG.warn("[{}] handed back but not queued in Redis ({}); the queue rebuild will queue it", row.id(), err.toString());
        return Future.succeededFuture(true);
      });
    });
  }
}
