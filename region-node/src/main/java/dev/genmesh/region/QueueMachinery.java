package dev.genmesh.region;

import dev.genmesh.breakers.RegionBreakers;
import dev.genmesh.protocol.Tier;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.queue.RetryPolicy;
import dev.genmesh.region.queue.impl.FallbackMover;
import dev.genmesh.region.queue.impl.LeaseReaper;
import dev.genmesh.region.queue.impl.QueueBreakerActions;
import dev.genmesh.region.queue.impl.QueueRebuild;
import dev.genmesh.region.queue.impl.RedisWatch;
import dev.genmesh.region.queue.impl.Retries;
import dev.genmesh.region.queue.impl.WorkerHandBack;
import dev.genmesh.region.scheduler.EtaEstimator;
import dev.genmesh.region.scheduler.Routing;
import dev.genmesh.region.workers.KnownWorker;
import dev.genmesh.region.workers.impl.WorkerRecovery;
import dev.genmesh.region.workers.impl.WorkerRegistry;
import io.vertx.core.Future;
import java.util.Map;

/**
 * What moves requests between the log, the queues and the workers: routing, the worker registry
 * and its recovery, ETA, circuit breakers, retries, the lease reaper and the Redis watch.
 */
final class QueueMachinery {
  final Routing routing;
  final WorkerRegistry workers;
  final EtaEstimator eta;
  final FallbackMover fallbacks;
  final RegionBreakers breakers;
  final Retries retries;
  final LeaseReaper reaper;
  final RedisWatch watch;
  final WorkerHandBack handBacks;
  private final RegionContext ctx;
  private final QueueRebuild rebuild;
  /** The start-up rebuild of the queues from the log is done (readiness). */
  private volatile boolean queuesRebuilt;

  QueueMachinery(RegionContext ctx) {
    this.ctx = ctx;
    routing = new Routing(ctx.config());
    workers = new WorkerRegistry(ctx.queue(), ctx.config().queue().leaseMs(), ctx.config().health(), ctx.clock());
    ctx.metrics().workerGauges(state -> (int) workers.workers().stream().filter(w -> w.state() == state).count());
    eta = new EtaEstimator(ctx.config().queue().relaxShare(), workers::liveCount);
    fallbacks = new FallbackMover(ctx, routing);
    handBacks = new WorkerHandBack(ctx, routing, id -> workers.worker(id).map(KnownWorker::gpuClass).orElse(null));
    breakers = new RegionBreakers(ctx.vertx(), ctx.config(), ctx.region(), ctx.meters(), ctx.clock(),
        this::servedByLiveWorker, new QueueBreakerActions(fallbacks, handBacks, ctx.idle()));
    retries = new Retries(ctx, new RetryPolicy(ctx.config().queue(), ctx.clock()), routing, breakers);
    reaper = new LeaseReaper(ctx, workers::stillRuns, retries);
    WorkerRecovery recovery = new WorkerRecovery(ctx, retries);
    workers.onTransition(transition -> {
      if (!transition.worker().state().acceptsWork()) {
        ctx.idle().forget(transition.worker().workerId()); // a claim it left waiting gets NO_WORK
      }
      recovery.onTransition(transition);
    });
    rebuild = new QueueRebuild(ctx, reaper, routing);
    watch = new RedisWatch(ctx.queue(), rebuild, ctx.metrics(), this::wakeWorkers);
  }

  /** The start-up rebuild of the queues from the log; the node does not start without it. */
  Future<Void> rebuildQueues() {
    return rebuild.run("startup")
        .recover(err -> Future.failedFuture(new IllegalStateException("queue rebuild failed: " + err.getMessage(), err)))
        .compose(report -> ctx.queue().depths())
        .onSuccess(depths -> {
          queuesRebuilt = true;
          wakeWorkers(depths);
        })
        .mapEmpty();
  }

  boolean queuesRebuilt() {
    return queuesRebuilt;
  }

  /** Tells idle workers which tiers have work (after a rebuild). */
  private void wakeWorkers(Map<Tier, Long> depths) {
    ctx.metrics().depths(depths);
    depths.forEach((tier, depth) -> {
      if (depth > 0) {
        ctx.idle().available(tier.wireName(), depth);
      }
    });
  }

  /** A worker that takes work holds this model (a fallback target must be served). */
  boolean servedByLiveWorker(String model) {
    return workers.workers().stream().anyMatch(w -> w.state().acceptsWork() && w.loadedModels().contains(model));
  }
}
