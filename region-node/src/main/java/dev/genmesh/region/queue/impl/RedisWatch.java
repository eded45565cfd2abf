package dev.genmesh.region.queue.impl;

import dev.genmesh.protocol.Tier;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.region.queue.TierQueue;
import io.vertx.core.Future;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices at run time that Redis lost the region's keys or was away and rebuilds the queues from
 * the log (docs/architecture.md, I2): the epoch marker of the last rebuild is gone, a claim found
 * delayed retries without their data, or Redis answers again after errors. One rebuild at a time;
 * error-triggered ones at most every {@link #ERROR_REBUILD_INTERVAL_MS}. Use from the event loop.
 */
public final class RedisWatch {
  private static final Logger LOG = LoggerFactory.getLogger(RedisWatch.class);
  static final long ERROR_REBUILD_INTERVAL_MS = 5000;

  private final TierQueue queue;
  private final QueueRebuild rebuild;
  private final RegionMetrics metrics;
  private final Consumer<Map<Tier, Long>> rebuilt;
  private boolean running;
  private boolean checking;
  private boolean keysLost;
  private boolean recoveryPending;
  private long lastErrorRebuildNanos = System.nanoTime() - ERROR_REBUILD_INTERVAL_MS * 1_000_000;

  /** @param rebuilt told the depths after each successful rebuild (to wake idle workers) */
  public RedisWatch(TierQueue queue, QueueRebuild rebuild, RegionMetrics metrics, Consumer<Map<Tier, Long>> rebuilt) {
    this.queue = queue;
    this.rebuild = rebuild;
    this.metrics = metrics;
    this.rebuilt = rebuilt;
  }

  /** Runs the rebuild now (start-up, or a caller that saw keys missing). */
  public Future<Void> rebuildNow(String trigger) {
    if (running) {
      keysLost = keysLost || !"startup".equals(trigger);
      return Future.succeededFuture();
    }
    running = true;
    return rebuild.run(trigger)
        .compose(report -> queue.depths())
        .onSuccess(rebuilt::accept)
        .onFailure(err -> {
          metrics.systemError("rebuild");
          LOG.warn("queue rebuild ({}) failed, will try again: {}", trigger, err.toString());
        })
        .onComplete(ar -> running = false)
        .mapEmpty();
  }

  /** A rebuild runs now (for the readiness probe's figures). */
  public boolean rebuilding() {
    return running;
  }

  /** Something saw our keys missing: rebuild on the next check. */
  public void keysLost() {
    keysLost = true;
  }

  /** Periodic (every second): reads the epoch marker and rebuilds if keys were lost or Redis came back. */
  public void check() {
    if (running || checking) {
      return;
    }
    checking = true;
    queue.epoch().onComplete(ar -> {
      checking = false;
      if (ar.failed()) {
        return; // Redis is away; the error flag makes the first good check rebuild.
      }
      recoveryPending |= queue.takeErrorSeen();
      if (ar.result().isEmpty() || keysLost) {
        keysLost = false;
        recoveryPending = false;
        LOG.warn("Redis lost the region's queue keys: rebuilding from the request log");
        rebuildNow("keys_lost").onFailure(err -> keysLost = true);
      } else if (recoveryPending && (System.nanoTime() - lastErrorRebuildNanos) / 1_000_000 >= ERROR_REBUILD_INTERVAL_MS) {
        recoveryPending = false;
        lastErrorRebuildNanos = System.nanoTime();
        LOG.info("Redis answers again after errors: rebuilding the queues from the request log");
        rebuildNow("redis_recovered");
      }
    });
  }
}
