package dev.genmesh.region.queue.impl;

import dev.genmesh.breakers.AttemptOutcomes;
import dev.genmesh.protocol.FailureType;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.protocol.WorkerMessages.Failure;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.region.queue.QueueEntry;
import dev.genmesh.region.queue.RetryPolicy;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.requests.ProgressHub;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.region.scheduler.IdleWorkers;
import dev.genmesh.region.scheduler.Routing;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out the {@link RetryPolicy} for an attempt that ended without a result (lease lapsed,
 * or the worker reported a failure): the log first (compare-and-set on attempt and status), then
 * the event, then Redis. A Redis failure here leaves the row QUEUED in the log, and the rebuild
 * queues it once Redis answers again.
 */
public final class Retries {
  private static final Logger LOG = LoggerFactory.getLogger(Retries.class);

  /** What was done: the row after the change (or as it was, for {@code NONE}) and the decision. */
  public record Outcome(RequestRow row, RetryPolicy.Decision decision) {}

  private final RequestLog log;
  private final TierQueue queue;
  private final ProgressHub hub;
  private final IdleWorkers idle;
  private final RegionMetrics metrics;
  private final RetryPolicy policy;
  private final Routing routing;
  private final Clock clock;
  private final AttemptOutcomes outcomes;

  /** @param outcomes the circuit breakers, told of every current failure and lapsed lease */
  public Retries(RegionContext ctx, RetryPolicy policy, Routing routing, AttemptOutcomes outcomes) {
    this.outcomes = outcomes;
    this.log = ctx.log();
    this.queue = ctx.queue();
    this.hub = ctx.hub();
    this.idle = ctx.idle();
    this.metrics = ctx.metrics();
    this.policy = policy;
    this.routing = routing;
    this.clock = ctx.clock();
  }

  /** The lease of this running row lapsed. Empty if the row moved on meanwhile. */
  public Future<Optional<Outcome>> leaseLost(RequestRow row) {
    return apply(row, policy.leaseLost(row.retryCount())).onSuccess(outcome -> {
      if (outcome.isPresent()) {
        metrics.leaseLost(row.tier());
        outcomes.failed(row.id(), row.model(), row.workerId(), FailureType.LEASE_LOST, retried(outcome.get())); // circuit breakers
      }
    });
  }

  /**
   * The worker that runs this row was found dead or hung: retried on another worker now rather
   * than when its lease lapses. Empty if the row moved on meanwhile.
   */
  public Future<Optional<Outcome>> workerLost(RequestRow row, String why) {
    return apply(row, policy.workerLost(row.retryCount(), row.workerId(), why)).onSuccess(outcome -> {
      if (outcome.isPresent()) {
        metrics.leaseLost(row.tier());
        if (!retried(outcome.get())) {
          // Failed for good: the region's global breaker counts it. A retried one is the membership's business.
          outcomes.failed(row.id(), row.model(), row.workerId(), FailureType.WORKER_LOST, false);
        }
      }
    });
  }

  /**
   * A worker's failure report. Empty if it is about an attempt that is not current (then the
   * caller counts it as discarded). A {@code cancelled} report changes nothing: the request was
   * cancelled, or its worker is stopping and the lease will lapse.
   */
  public Future<Optional<Outcome>> failed(Failure failure) {
    return log.find(failure.requestId()).compose(found -> {
      if (found.isEmpty() || found.get().attempt() != failure.attempt()) {
        return Future.succeededFuture(Optional.empty());
      }
      RequestRow row = found.get();
      if (FailureType.CANCELLED.equals(failure.failureType()) && row.status() == RequestStatus.CANCELLED) {
        return Future.succeededFuture(Optional.of(new Outcome(row, policy.failed(row.retryCount(),
            FailureType.CANCELLED, failure.message(), failure.workerId(), null))));
      }
      if (!row.isRunning()) {
        return Future.succeededFuture(Optional.empty());
      }
      return apply(row, policy.failed(row.retryCount(), failure.failureType(), failure.message(), failure.workerId(),
          row.assignedVramMb()));
    }).onSuccess(outcome -> outcome.ifPresent(o ->  // circuit breakers: a current failure (cancelled counts as none)
        outcomes.failed(failure.requestId(), o.row().model(), failure.workerId(), failure.failureType(), retried(o))));
  }

  /** The request went back to its queue (another attempt follows), rather than failing for good. */
  private static boolean retried(Outcome outcome) {
    return outcome.decision().action() != RetryPolicy.Action.FAIL;
  }

  private Future<Optional<Outcome>> apply(RequestRow row, RetryPolicy.Decision decision) {
    return switch (decision.action()) {
      case NONE -> Future.succeededFuture(Optional.of(new Outcome(row, decision)));
      case FAIL -> log.fail(row.id(), row.attempt(), decision.code(), decision.message()).map(change -> change.map(c -> {
        LOG.info("[{}] failed after {} retries: {} {}", row.id(), row.retryCount(), decision.code(), decision.message());
        hub.publish(c);
        metrics.request(c.row().tier(), RequestStatus.FAILED);
        queue.deleteLease(row.id()).onFailure(err -> LOG.debug("[{}] lease not deleted (it expires): {}", row.id(), err.toString()));
        return new Outcome(c.row(), decision);
      }));
      case RETRY -> log.retry(row.id(), row.attempt(), decision, retryEvent(decision)).compose(change -> {
        if (change.isEmpty()) {
          return Future.succeededFuture(Optional.<Outcome>empty());
        }
        RequestRow queued = change.get().row();
        LOG.info("[{}] attempt {} ended ({}): retry {} not before {}{}", row.id(), row.attempt(), decision.code(),
            decision.retryCount(), decision.notBefore(),
            decision.hints().isEmpty() ? "" : " with hints " + decision.hints());
        hub.publish(change.get().event());
        metrics.retry(queued.tier(), decision.code());
        QueueEntry entry = routing.entry(queued, true);
        return queue.enqueue(List.of(entry), clock.millis())
            .<Optional<Outcome>>map(added -> {
              if (!decision.notBefore().isAfter(clock.instant())) {
                idle.queued(entry); // claimable now; a backoff's end wakes workers when the reaper promotes it
              }
              return Optional.of(new Outcome(queued, decision));
            })
            .recover(err -> {
              LOG.warn("[{}] retry committed but not queued in Redis ({}); the rebuild will queue it", row.id(), err.toString());
              return Future.succeededFuture(Optional.of(new Outcome(queued, decision)));
            });
      });
    };
  }

  /** The {@code queued} event of a retry: no position while it waits out its backoff. */
  private static JsonObject retryEvent(RetryPolicy.Decision decision) {
    return new JsonObject()
        .putNull("position")
        .putNull("queue_position")
        .putNull("eta_ms")
        .put("retry_count", decision.retryCount())
        .put("reason", decision.code())
        .put("message", decision.message())
        .put("not_before", decision.notBefore().toString())
        .put("hints", new JsonArray(decision.hints()));
  }
}
