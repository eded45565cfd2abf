package dev.genmesh.region.queue.impl;

import dev.genmesh.protocol.Tier;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.region.queue.QueueEntry;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.region.scheduler.Routing;
import io.vertx.core.Future;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes Redis agree with the request log (docs/architecture.md, I2): marks the Redis epoch,
 * restores or retries running requests without a lease ({@link LeaseReaper}), then queues every
 * QUEUED row, each tier oldest first so that fair queueing rebuilds a fair order. Safe while other
 * nodes serve: the log changes are compare-and-set and the Redis adds skip ids already queued.
 */
public final class QueueRebuild {
  private static final Logger LOG = LoggerFactory.getLogger(QueueRebuild.class);
  static final int PAGE = 1000;

  /** What a rebuild did. */
  public record Report(LeaseReaper.Report leases, long added) {}

  private final RequestLog log;
  private final TierQueue queue;
  private final LeaseReaper reaper;
  private final Routing routing;
  private final RegionMetrics metrics;
  private final Clock clock;

  public QueueRebuild(RegionContext ctx, LeaseReaper reaper, Routing routing) {
    this.log = ctx.log();
    this.queue = ctx.queue();
    this.reaper = reaper;
    this.routing = routing;
    this.metrics = ctx.metrics();
    this.clock = ctx.clock();
  }

  /** @param trigger why ({@code startup}, {@code keys_lost}, {@code redis_recovered}): a metric tag */
  public Future<Report> run(String trigger) {
    // Marked first: keys lost while this runs are then noticed by the next check.
    return queue.markEpoch(UUID.randomUUID() + "@" + clock.instant())
        .compose(v -> reaper.reap())
        .compose(leases -> addTier(0, null, "", 0L).map(added -> new Report(leases, added)))
        .onSuccess(report -> {
          metrics.rebuild(trigger);
          LOG.info("queue rebuild ({}): {} leases restored, {} lost leases retried, {} failed, {} ids queued",
              trigger, report.leases().restored(), report.leases().retried(), report.leases().failed(), report.added());
        });
  }

  private Future<Long> addTier(int tierIndex, Instant afterQueuedAt, String afterId, long addedSoFar) {
    if (tierIndex >= Tier.values().length) {
      return Future.succeededFuture(addedSoFar);
    }
    Tier tier = Tier.values()[tierIndex];
    return log.queuedPage(tier, afterQueuedAt, afterId, PAGE).compose(rows -> {
      if (rows.isEmpty()) {
        return addTier(tierIndex + 1, null, "", addedSoFar);
      }
      List<QueueEntry> entries = rows.stream().map(row -> routing.entry(row, false)).toList();
      return queue.enqueue(entries, clock.millis()).compose(added -> {
        RequestRow last = rows.get(rows.size() - 1);
        return rows.size() < PAGE
            ? addTier(tierIndex + 1, null, "", addedSoFar + added)
            : addTier(tierIndex, last.queuedAt(), last.id(), addedSoFar + added);
      });
    });
  }
}
