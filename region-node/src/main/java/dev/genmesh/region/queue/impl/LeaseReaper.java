package dev.genmesh.region.queue.impl;

import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.region.queue.RetryPolicy;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.RequestRow;
import io.vertx.core.Future;
import java.util.function.BiPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds running requests whose lease is gone (docs/architecture.md, I3 and I4). If the worker's
 * last heartbeat still lists the request, the lease is re-created; otherwise the
 * {@link RetryPolicy} decides. A Redis error stops the pass: a lease that cannot be read is never
 * taken for lost.
 */
public final class LeaseReaper {
  private static final Logger LOG = LoggerFactory.getLogger(LeaseReaper.class);

  /** What one pass did. */
  public record Report(int restored, int retried, int failed) {
    Report plus(Report other) {
      return new Report(restored + other.restored, retried + other.retried, failed + other.failed);
    }
  }

  private final RequestLog log;
  private final TierQueue queue;
  private final BiPredicate<String, String> stillRuns;
  private final Retries retries;
  private final RegionMetrics metrics;
  private final long leaseMs;

  /**
   * @param stillRuns whether a worker (first argument) still runs a request (second), as its last
   *     heartbeat says
   */
  public LeaseReaper(RegionContext ctx, BiPredicate<String, String> stillRuns, Retries retries) {
    this.log = ctx.log();
    this.queue = ctx.queue();
    this.stillRuns = stillRuns;
    this.retries = retries;
    this.metrics = ctx.metrics();
    this.leaseMs = ctx.config().queue().leaseMs();
  }

  public Future<Report> reap() {
    return log.running().compose(rows -> queue.leasesHeld(rows.stream().map(RequestRow::id).toList()).compose(held -> {
      Future<Report> chain = Future.succeededFuture(new Report(0, 0, 0));
      for (int i = 0; i < rows.size(); i++) {
        if (!held.get(i)) {
          RequestRow row = rows.get(i);
          chain = chain.compose(report -> lapsed(row).map(report::plus));
        }
      }
      return chain;
    }));
  }

  private Future<Report> lapsed(RequestRow row) {
    if (stillRuns.test(row.workerId(), row.id())) {
      return queue.restoreLease(row.id(), row.workerId(), leaseMs).map(restored -> {
        if (restored) {
          metrics.leaseRestored();
          LOG.info("[{}] lease restored for worker {}, which still runs attempt {}", row.id(), row.workerId(), row.attempt());
        }
        return new Report(restored ? 1 : 0, 0, 0);
      });
    }
    return retries.leaseLost(row).map(outcome -> outcome.map(o -> switch (o.decision().action()) {
      case RETRY -> new Report(0, 1, 0);
      case FAIL -> new Report(0, 0, 1);
      case NONE -> new Report(0, 0, 0);
    }).orElse(new Report(0, 0, 0)));
  }
}
