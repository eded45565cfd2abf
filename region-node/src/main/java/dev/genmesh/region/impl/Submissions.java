package dev.genmesh.region.impl;

import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.RequestIds;
import dev.genmesh.protocol.RequestStatus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes a request in: commit to the log first (the 202 promise, DESIGN.md I1), then queue it
 * in Redis. A Redis failure does not fail the submit: the row is QUEUED in the log, and the
 * queue rebuild (or a retried submit) puts it in the queue.
 */
public final class Submissions {
  private static final Logger LOG = LoggerFactory.getLogger(Submissions.class);
  /** Redis is an optimisation here; never hold a submit long for it. */
  private static final long REDIS_TIMEOUT_MS = 1000;

  /** An accepted request; {@code queuePosition} is set when this call queued it. */
  public record Accepted(RequestRow row, boolean created, Optional<Long> queuePosition) {}

  private final Vertx vertx;
  private final String region;
  private final String regionCode;
  private final RequestLog log;
  private final TierQueue queue;
  private final ProgressHub hub;
  private final RegionMetrics metrics;
  private final Clock clock;

  public Submissions(Vertx vertx, String region, String regionCode, RequestLog log, TierQueue queue,
      ProgressHub hub, RegionMetrics metrics, Clock clock) {
    this.vertx = vertx;
    this.region = region;
    this.regionCode = regionCode;
    this.log = log;
    this.queue = queue;
    this.hub = hub;
    this.metrics = metrics;
    this.clock = clock;
  }

  /** Answers once the request is committed; fails only if the log could not take it. */
  public Future<Accepted> submit(GenerationSpec spec, String idempotencyKey) {
    String id = RequestIds.next(regionCode, clock.millis());
    // Everything in the queue now is older (or boosted), so the queue length is our place in it.
    return queue.depth(spec.tier()).timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .map(Optional::of)
        .otherwise(Optional.empty())
        .compose(position -> log.submit(id, spec, idempotencyKey, position.orElse(null))
            .compose(submitted -> enqueue(submitted.row()).map(v -> {
              RequestRow row = submitted.row();
              if (!submitted.created()) {
                return new Accepted(row, false, Optional.empty());
              }
              hub.publish(submitted.queuedEvent().orElseThrow());
              vertx.eventBus().publish(Addresses.workAvailable(region), row.tier().wireName());
              metrics.request(row.tier(), RequestStatus.QUEUED);
              return new Accepted(row, true, position);
            })));
  }

  /** ZADD NX of a QUEUED row; also heals a first submit whose enqueue failed. Never fails. */
  private Future<Void> enqueue(RequestRow row) {
    if (row.status() != RequestStatus.QUEUED) {
      return Future.succeededFuture();
    }
    return queue.add(row.id(), row.tier(), row.queueScore())
        .timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .recover(err -> {
          LOG.warn("request {} committed but not queued in Redis ({}); the queue rebuild will queue it",
              row.id(), err.toString());
          return Future.succeededFuture();
        });
  }
}
