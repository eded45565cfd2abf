package dev.genmesh.region;

import dev.genmesh.protocol.Tier;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.queue.impl.LeaseReaper;
import dev.genmesh.region.queue.impl.RedisWatch;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.scheduler.IdleWorkers;
import dev.genmesh.region.workers.impl.WorkerRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The region node's periodic passes: every second the Redis epoch check and the queue metrics
 * (which also let claims that waited while work waited look again, {@link IdleWorkers#depths});
 * every {@code queue.lease_reap_interval_ms} due retries promoted and lapsed leases reaped (now
 * and then finish tags pruned); often, the worker health sweep. A pass still running when its
 * timer fires again is skipped.
 */
public final class Housekeeping {
  private static final Logger LOG = LoggerFactory.getLogger(Housekeeping.class);
  /** Queue metrics and the Redis epoch check run this often. */
  static final long WATCH_INTERVAL_MS = 1000;
  /** Finish tags are pruned every this many reaper passes. */
  static final int PRUNE_EVERY = 10;

  private final Vertx vertx;
  private final String region;
  private final RequestLog log;
  private final TierQueue queue;
  private final RedisWatch watch;
  private final LeaseReaper reaper;
  private final WorkerRegistry workers;
  private final IdleWorkers idle;
  private final RegionMetrics metrics;
  private final Clock clock;
  private final Map<Tier, String> pruneCursors = new EnumMap<>(Tier.class);
  private final List<Long> timers = new ArrayList<>();
  private boolean statsInFlight;
  private boolean reapInFlight;
  private long reapPasses;

  public Housekeeping(RegionContext ctx, RedisWatch watch, LeaseReaper reaper, WorkerRegistry workers) {
    this.vertx = ctx.vertx();
    this.region = ctx.region();
    this.log = ctx.log();
    this.queue = ctx.queue();
    this.watch = watch;
    this.reaper = reaper;
    this.workers = workers;
    this.idle = ctx.idle();
    this.metrics = ctx.metrics();
    this.clock = ctx.clock();
  }

  /**
   * @param reapIntervalMs {@code queue.lease_reap_interval_ms}
   * @param heartbeatIntervalMs {@code health.heartbeat_interval_ms}: silent workers are looked
   *     for five times per interval, 100 ms to 1 s apart
   */
  public void start(long reapIntervalMs, long heartbeatIntervalMs) {
    timers.add(vertx.setPeriodic(WATCH_INTERVAL_MS, id -> {
      watch.check();
      refreshStats();
    }));
    timers.add(vertx.setPeriodic(reapIntervalMs, id -> reap()));
    timers.add(vertx.setPeriodic(Math.max(100, Math.min(1000, heartbeatIntervalMs / 5)), id -> workers.sweep()));
  }

  public void stop() {
    timers.forEach(vertx::cancelTimer);
    timers.clear();
  }

  /** Depth per tier from Redis, oldest waiting request per tier from the log. */
  private void refreshStats() {
    if (statsInFlight) {
      return;
    }
    statsInFlight = true;
    Future<Void> depths = queue.depths().onSuccess(metrics::depths)
        .onSuccess(byTier -> idle.depths(byTier.values().stream().mapToLong(Long::longValue).sum())).mapEmpty();
    Future<Void> oldest = log.oldestQueued().onSuccess(at -> metrics.oldest(at, clock.instant())).mapEmpty();
    Future.join(depths, oldest).onComplete(ar -> statsInFlight = false);
  }

  /**
   * One reaper pass: due retries into their queues (waking workers), then lost leases restored
   * or retried; now and then, finish tags that no longer matter are pruned.
   */
  private void reap() {
    if (reapInFlight) {
      return;
    }
    reapInFlight = true;
    queue.promoteDue(clock.millis())
        .onSuccess(counts -> {
          if (counts[0] > 0) {
            idle.available("retry", counts[0]);
          }
          if (counts[1] > 0) {
            watch.keysLost();
          }
        })
        .compose(v -> reaper.reap())
        .compose(v -> ++reapPasses % PRUNE_EVERY == 0 ? prune() : Future.succeededFuture())
        .onFailure(err -> {
          // Every second while a store is down: counted always, logged at debug (the store's own errors say why).
          metrics.systemError("reap");
          LOG.debug("region {}: reaper pass failed: {}", region, err.toString());
        })
        .onComplete(ar -> reapInFlight = false);
  }

  private Future<Void> prune() {
    List<Future<String>> pages = new ArrayList<>();
    for (Tier tier : Tier.values()) {
      pages.add(queue.pruneFinishTags(tier, pruneCursors.getOrDefault(tier, "0"))
          .onSuccess(next -> pruneCursors.put(tier, next)));
    }
    return Future.all(pages).mapEmpty();
  }
}
