package dev.genmesh.region.impl;

import dev.genmesh.protocol.Tier;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes Redis agree with the request log (DESIGN.md I2): running requests whose lease is gone
 * go back to QUEUED (attempt kept), then every QUEUED row is added to its tier queue with
 * ZADD NX. Safe to run while other nodes serve: every change is a compare-and-set.
 */
public final class QueueRebuild {
  private static final Logger LOG = LoggerFactory.getLogger(QueueRebuild.class);
  static final int PAGE = 1000;

  /** What a rebuild did. */
  public record Report(int requeued, long added) {}

  private final RequestLog log;
  private final TierQueue queue;
  private final ProgressHub hub;

  public QueueRebuild(RequestLog log, TierQueue queue, ProgressHub hub) {
    this.log = log;
    this.queue = queue;
    this.hub = hub;
  }

  public Future<Report> run() {
    return requeueLostLeases().compose(requeued -> addQueued("", 0L).map(added -> {
      Report report = new Report(requeued, added);
      LOG.info("queue rebuild: {} running requests without a lease re-queued, {} ids added to the tier queues",
          report.requeued(), report.added());
      return report;
    }));
  }

  /**
   * Sends running requests whose lease lapsed (their worker died or hung) back to their tier
   * queue. Runs periodically; a fuller reaper with retry counts and backoff replaces it later.
   */
  public Future<Integer> reclaimLostLeases() {
    return requeueLostLeases().onSuccess(count -> {
      if (count > 0) {
        LOG.info("lease check: {} running requests without a lease re-queued", count);
      }
    });
  }

  private Future<Integer> requeueLostLeases() {
    return log.running().compose(rows -> {
      List<String> ids = rows.stream().map(RequestRow::id).toList();
      return queue.leasesHeld(ids).compose(held -> {
        Future<Integer> chain = Future.succeededFuture(0);
        for (int i = 0; i < rows.size(); i++) {
          if (held.get(i)) {
            continue;
          }
          RequestRow row = rows.get(i);
          chain = chain.compose(count -> log.requeue(row.id(), row.attempt()).compose(change -> {
            if (change.isEmpty()) {
              return Future.succeededFuture(count);
            }
            LOG.info("[{}] lost its lease (worker {}, attempt {}): back to QUEUED", row.id(), row.workerId(), row.attempt());
            hub.publish(change.get().event());
            return queue.addAll(row.tier(), Map.of(row.id(), row.queueScore())).map(added -> count + 1);
          }));
        }
        return chain;
      });
    });
  }

  private Future<Long> addQueued(String afterId, long addedSoFar) {
    return log.queuedPage(afterId, PAGE).compose(rows -> {
      if (rows.isEmpty()) {
        return Future.succeededFuture(addedSoFar);
      }
      Map<Tier, Map<String, Double>> byTier = new EnumMap<>(Tier.class);
      for (RequestRow row : rows) {
        byTier.computeIfAbsent(row.tier(), t -> new LinkedHashMap<>()).put(row.id(), row.queueScore());
      }
      List<Future<Long>> adds = new ArrayList<>();
      byTier.forEach((tier, scores) -> adds.add(queue.addAll(tier, scores)));
      return Future.all(adds).compose(all -> {
        long added = addedSoFar;
        for (Future<Long> add : adds) {
          added += add.result();
        }
        return rows.size() < PAGE ? Future.succeededFuture(added) : addQueued(rows.get(rows.size() - 1).id(), added);
      });
    });
  }
}
