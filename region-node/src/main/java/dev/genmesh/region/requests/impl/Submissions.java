package dev.genmesh.region.requests.impl;

import dev.genmesh.breakers.Overloaded;
import dev.genmesh.breakers.RegionBreakers;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.RequestIds;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.protocol.tracing.TraceParent;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.region.queue.QueueEntry;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.queue.impl.FallbackMover;
import dev.genmesh.region.requests.ProgressHub;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.region.scheduler.EtaEstimator;
import dev.genmesh.region.scheduler.IdleWorkers;
import dev.genmesh.region.scheduler.Routing;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes a request in: commit to the log first (the 202 promise, docs/architecture.md, I1), then
 * queue it in Redis. A Redis failure does not fail the submit: the row is QUEUED in the log, and
 * the queue rebuild (or a retried submit) puts it in the queue.
 */
public final class Submissions {
  private static final Logger LOG = LoggerFactory.getLogger(Submissions.class);
  /** Redis is an optimisation here; never hold a submit long for it. */
  private static final long REDIS_TIMEOUT_MS = 1000;

  /** An accepted request; position and ETA are set when this call queued it and Redis answered. */
  public record Accepted(RequestRow row, boolean created, Long queuePosition, Long etaMs) {}

  private final String regionCode;
  private final RequestLog log;
  private final TierQueue queue;
  private final ProgressHub hub;
  private final IdleWorkers idle;
  private final RegionMetrics metrics;
  private final Routing routing;
  private final EtaEstimator eta;
  private final Clock clock;
  private final RegionBreakers breakers;
  private final FallbackMover fallbacks;

  /**
   * @param breakers the circuit breakers: shed tiers, and fallbacks for models whose breaker is open
   * @param fallbacks moves a new request to its fallback when the breakers say so
   */
  public Submissions(RegionContext ctx, Routing routing, EtaEstimator eta, RegionBreakers breakers,
      FallbackMover fallbacks) {
    this.breakers = breakers;
    this.fallbacks = fallbacks;
    this.regionCode = ctx.regionConfig().code();
    this.log = ctx.log();
    this.queue = ctx.queue();
    this.hub = ctx.hub();
    this.idle = ctx.idle();
    this.metrics = ctx.metrics();
    this.routing = routing;
    this.eta = eta;
    this.clock = ctx.clock();
  }

  /**
   * Answers once the request is committed; fails if the log could not take it, or with
   * {@link Overloaded} when the global circuit breaker sheds its tier. A shed tier still answers
   * a retried submit whose idempotency key was accepted before: refusing it would tell the
   * client that a committed request was not taken.
   */
  public Future<Accepted> submit(GenerationSpec spec, String idempotencyKey, String user) {
    return submit(spec, idempotencyKey, user, null);
  }

  /**
   * As above, storing with the row what the key is for ({@code RequestHash}); comparing it with a
   * retry's is the caller's business (the first row comes back with {@code created} false).
   */
  public Future<Accepted> submit(GenerationSpec spec, String idempotencyKey, String user, String requestHash) {
    return submit(spec, idempotencyKey, user, requestHash, 0);
  }

  /** As above, at {@code priority} (0 normally; negative puts it behind others of its tier). */
  public Future<Accepted> submit(GenerationSpec spec, String idempotencyKey, String user, String requestHash,
      int priority) {
    Optional<Overloaded> shed = breakers.shed(spec.tier()); // circuit breakers: relax first, then fast
    if (shed.isPresent()) {
      Future<Optional<RequestRow>> known = idempotencyKey == null ? Future.succeededFuture(Optional.empty())
          : log.findByIdempotencyKey(idempotencyKey);
      return known.compose(row -> row
          .map(accepted -> Future.succeededFuture(new Accepted(accepted, false, null, null)))
          .orElseGet(() -> Future.failedFuture(breakers.refused(shed.get(), spec.tier()))));
    }
    return submitNow(spec, idempotencyKey, user, requestHash, priority);
  }

  private Future<Accepted> submitNow(GenerationSpec spec, String idempotencyKey, String user, String requestHash,
      int priority) {
    String id = RequestIds.next(regionCode, clock.millis());
    String traceParent = TraceParent.current(); // the regional API's server span: the worker's spans join it
    // Where its start tag would put it now: the place the queued event reports.
    return queue.predict(spec.tier(), user, priority).timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .map(Optional::of)
        .otherwise(Optional.empty())
        .compose(place -> {
          Long position = place.map(p -> eta.position(spec.tier(), p.rank(), p.depths())).orElse(null);
          OptionalLong etaMs = position == null ? OptionalLong.empty() : eta.etaMs(spec, position, 0);
          Long etaValue = etaMs.isPresent() ? etaMs.getAsLong() : null;
          JsonObject queued = new JsonObject().put("position", position).put("queue_position", position).put("eta_ms", etaValue);
          return log.submit(id, spec, idempotencyKey, user, queued, routing.requestClass(spec), requestHash, priority,
                  traceParent)
              .compose(submitted -> fallbacks.atSubmit(submitted, breakers::fallbackFor)) // an open model's fallback, where allowed
              .compose(submitted -> enqueue(submitted.row()).map(v -> {
                RequestRow row = submitted.row();
                if (!submitted.created()) {
                  return new Accepted(row, false, null, null);
                }
                hub.publish(submitted.queuedEvent().orElseThrow());
                metrics.request(row.tier(), RequestStatus.QUEUED);
                return new Accepted(row, true, position, etaValue);
              }));
        });
  }

  /**
   * Queues a QUEUED row (a no-op if queued) and wakes one idle worker that can run it; also heals a
   * first submit whose enqueue failed. Never fails.
   */
  private Future<Void> enqueue(RequestRow row) {
    if (row.status() != RequestStatus.QUEUED) {
      return Future.succeededFuture();
    }
    QueueEntry entry = routing.entry(row, false);
    return queue.enqueue(List.of(entry), clock.millis())
        .timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .<Void>map(added -> {
          idle.queued(entry);
          return null;
        })
        .recover(err -> {
          LOG.warn("request {} committed but not queued in Redis ({}); the queue rebuild will queue it",
              row.id(), err.toString());
          return Future.succeededFuture();
        });
  }
}
