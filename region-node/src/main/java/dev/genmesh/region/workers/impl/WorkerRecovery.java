package dev.genmesh.region.workers.impl;

import dev.genmesh.protocol.Addresses;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.region.queue.impl.Retries;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.region.workers.KnownWorker;
import dev.genmesh.region.workers.WorkerState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the region does when a worker's state changes: a worker that timed out or left the cluster
 * has its requests retried on another worker at once (docs/architecture.md, I4) and told to stop
 * them; a lost or not-live worker is replaced; every change is logged once, counted and published.
 */
public final class WorkerRecovery {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerRecovery.class);

  private final Vertx vertx;
  private final String region;
  private final RequestLog log;
  private final Retries retries;
  private final RegionMetrics metrics;

  public WorkerRecovery(RegionContext ctx, Retries retries) {
    this.vertx = ctx.vertx();
    this.region = ctx.region();
    this.log = ctx.log();
    this.retries = retries;
    this.metrics = ctx.metrics();
  }

  public void onTransition(WorkerRegistry.Transition transition) {
    KnownWorker worker = transition.worker();
    WorkerState to = worker.state();
    metrics.workerTransition(to);
    JsonObject change = new JsonObject()
        .put("region", region)
        .put("worker_id", worker.workerId())
        .put("from", transition.from() == null ? null : transition.from().wireName())
        .put("state", to.wireName())
        .put("reason", transition.why())
        .put("at", worker.stateSince().toString());
    vertx.eventBus().publish(Addresses.workerHealth(region), change);
    if (to == WorkerState.HEALTHY || to == WorkerState.NOT_READY || to == WorkerState.DRAINING) {
      if (transition.from() != null && transition.from() != WorkerState.NOT_READY) {
        LOG.info("worker {} is {} (was {}): {}", worker.workerId(), to.wireName(), transition.from().wireName(),
            transition.why());
      }
      return;
    }
    if (transition.from() == WorkerState.DRAINING && to.isLost()) {
      // A planned exit (scale-down): no alert and no replacement, which would undo the scale-down.
      LOG.info("worker {} is {} after draining: {}", worker.workerId(), to.wireName(), transition.why());
      handBack(worker, to.wireName() + " after draining: " + transition.why());
      return;
    }
    LOG.warn("worker {} is {} (was {}): {}", worker.workerId(), to.wireName(),
        transition.from() == null ? "unknown" : transition.from().wireName(), transition.why());
    vertx.eventBus().publish(Addresses.ALERTS, change.copy().put("type", "worker_" + to.wireName()));
    vertx.eventBus().publish(Addresses.replacements(region), new JsonObject()
        .put("region", region)
        .put("worker_id", worker.workerId())
        .put("gpu_class", worker.gpuClass())
        .put("reason", to.wireName() + ": " + transition.why()));
    if (to.isLost() || to == WorkerState.NOT_LIVE) {
      // Not live may mean a wedged batch (its watchdog) that still heartbeats: what it holds is stuck.
      handBack(worker, to.wireName() + ": " + transition.why());
    }
  }

  /** Retries every request the lost worker runs, and tells it to stop them should it come back. */
  Future<Integer> handBack(KnownWorker worker, String why) {
    return log.running().compose(rows -> {
      List<Future<Boolean>> retried = new ArrayList<>();
      for (RequestRow row : rows) {
        if (worker.workerId().equals(row.workerId())) {
          vertx.eventBus().publish(Addresses.cancel(region), new JsonObject().put("request_id", row.id())
              .put("attempt", row.attempt()).put("reason", "handed back: worker " + why));
          retried.add(retries.workerLost(row, "worker " + worker.workerId() + " " + why).map(o -> o.isPresent()));
        }
      }
      return Future.all(retried).map(all -> (int) retried.stream().filter(f -> f.result()).count());
    }).onSuccess(count -> {
      if (count > 0) {
        LOG.warn("worker {}: {} request(s) handed back to the queue", worker.workerId(), count); // Retries wakes workers for them
      }
    }).onFailure(err -> {
      // The lease reaper retries them once their leases lapse: nothing is lost, it only takes longer.
      metrics.systemError("hand_back");
      LOG.warn("worker {}: requests not handed back now ({}); their leases will lapse", worker.workerId(), err.toString());
    });
  }
}
