package dev.genmesh.region.impl;

import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.protocol.WorkerMessages.Claim;
import io.vertx.core.Future;
import io.vertx.core.eventbus.Message;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers a worker's claim: pops the next id (turbo, fast, relax; atomic with its lease), then
 * moves the row QUEUED → ASSIGNED. An id the worker cannot run goes back with its score; an id
 * that is no longer QUEUED (cancelled, already running) is dropped.
 */
public final class ClaimHandler {
  private static final Logger LOG = LoggerFactory.getLogger(ClaimHandler.class);
  /** Bounds one claim's work when the queue heads hold many requests this worker cannot run. */
  static final int MAX_ROUNDS = 32;

  private final RequestLog log;
  private final TierQueue queue;
  private final ProgressHub hub;
  private final RegionMetrics metrics;
  private final long leaseMs;

  public ClaimHandler(RequestLog log, TierQueue queue, ProgressHub hub, RegionMetrics metrics, long leaseMs) {
    this.log = log;
    this.queue = queue;
    this.hub = hub;
    this.metrics = metrics;
    this.leaseMs = leaseMs;
  }

  public void handle(Message<Object> message) {
    Claim claim = BusBodies.parse(message, Claim::fromJson);
    if (claim == null || claim.workerId() == null || claim.workerId().isBlank()) {
      message.fail(BusFailure.BAD_MESSAGE, "claim needs a JSON body with worker_id");
      return;
    }
    next(claim, new HashSet<>(), 0).onComplete(ar -> {
      if (ar.failed()) {
        metrics.systemError("claim");
        LOG.warn("claim by worker {} failed: {}", claim.workerId(), ar.cause().toString());
        message.fail(BusFailure.UNAVAILABLE, "region storage unavailable: " + ar.cause().getMessage());
      } else if (ar.result().isEmpty()) {
        message.fail(BusFailure.NO_WORK, "no work");
      } else {
        message.reply(ar.result().get().toJson());
      }
    });
  }

  private Future<Optional<Assignment>> next(Claim claim, Set<String> skipped, int round) {
    if (round >= MAX_ROUNDS) {
      return Future.succeededFuture(Optional.empty());
    }
    return queue.pop(claim.workerId(), leaseMs, skipped).compose(popped -> {
      if (popped.isEmpty()) {
        return Future.succeededFuture(Optional.empty());
      }
      TierQueue.Popped item = popped.get();
      return log.assign(item.id(), claim.workerId(), claim.models())
          .recover(err -> queue.putBack(item, claim.workerId())
              .transform(ignored -> Future.failedFuture(err)))
          .compose(change -> {
            if (change.isPresent()) {
              RequestRow row = change.get().row();
              hub.publish(change.get().event());
              LOG.debug("request {} assigned to worker {} (attempt {})", row.id(), claim.workerId(), row.attempt());
              return Future.succeededFuture(Optional.of(
                  new Assignment(row.id(), row.attempt(), leaseMs, row.generationSpec())));
            }
            return passOver(item, claim).compose(putBack -> {
              if (putBack) {
                skipped.add(item.id());
              }
              return next(claim, skipped, round + 1);
            });
          });
    });
  }

  /** The row was not assignable to this worker: put it back if it still waits (true), else drop it. */
  private Future<Boolean> passOver(TierQueue.Popped item, Claim claim) {
    return log.find(item.id()).compose(row -> {
      if (row.isPresent() && row.get().status() == RequestStatus.QUEUED) {
        return queue.putBack(item, claim.workerId()).map(true);
      }
      LOG.debug("request {} dropped from the {} queue: status {}", item.id(), item.tier().wireName(),
          row.map(r -> r.status().wireName()).orElse("unknown"));
      return queue.releaseLease(item.id(), claim.workerId()).map(false);
    });
  }
}
