package dev.genmesh.region.workers.impl;

import dev.genmesh.breakers.AttemptOutcomes;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.RequestIds;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.protocol.WorkerMessages.Failure;
import dev.genmesh.protocol.WorkerMessages.Result;
import dev.genmesh.protocol.WorkerMessages.Step;
import dev.genmesh.region.node.BusBodies;
import dev.genmesh.region.node.ImageStore;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.region.queue.RetryPolicy;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.queue.impl.Retries;
import dev.genmesh.region.requests.ProgressHub;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.region.safety.SafetyGate;
import dev.genmesh.region.scheduler.EtaEstimator;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What workers report about the requests they run: steps, results, failures. Every change is a
 * compare-and-set on the attempt, so a report of a stale attempt changes nothing
 * (docs/architecture.md, I3). Reports about one request are applied in the order they arrive (a
 * result once its images are decoded).
 */
public final class WorkerReports {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerReports.class);

  private final RequestLog log;
  private final TierQueue queue;
  private final ImageStore images;
  private final ProgressHub hub;
  private final RegionMetrics metrics;
  private final Retries retries;
  private final EtaEstimator eta;
  private final SafetyGate gate;
  private final KeyedSequencer sequencer = new KeyedSequencer();
  private final AttemptOutcomes outcomes;
  private final WorkerExecutor io;

  /** @param outcomes the circuit breakers, told of each current result (failures reach them through {@link Retries}) */
  public WorkerReports(RegionContext ctx, ImageStore images, Retries retries, EtaEstimator eta, SafetyGate gate,
      AttemptOutcomes outcomes) {
    this.outcomes = outcomes;
    this.io = ctx.io();
    this.log = ctx.log();
    this.queue = ctx.queue();
    this.images = images;
    this.hub = ctx.hub();
    this.metrics = ctx.metrics();
    this.retries = retries;
    this.eta = eta;
    this.gate = gate;
  }

  /** {@code send}: no answer; stale or malformed steps are counted and dropped. */
  public void step(Message<Object> message) {
    Step step = BusBodies.parse(message, Step::fromJson);
    if (step == null || step.requestId() == null) {
      metrics.staleStep();
      LOG.debug("malformed step message dropped");
      return;
    }
    JsonObject data = new JsonObject().put("step", step.step()).put("total", step.total()).put("step_ms", step.stepMs());
    if (step.preview() != null) {
      data.put("preview", step.preview());
    }
    sequencer.run(step.requestId(), () -> log.step(step.requestId(), step.attempt(), data)).onComplete(ar -> {
      if (ar.failed()) {
        metrics.systemError("step");
        LOG.warn("request {}: step {} of attempt {} not recorded: {}", step.requestId(), step.step(), step.attempt(),
            ar.cause().toString());
      } else if (ar.result().isEmpty()) {
        metrics.staleStep();
        LOG.debug("request {}: step of stale attempt {} from worker {} ignored", step.requestId(), step.attempt(),
            step.workerId());
      } else {
        hub.publish(ar.result().get().event());
        metrics.stepTime(ar.result().get().row().model(), step.stepMs());
        eta.observeStep(ar.result().get().row().model(), step.stepMs());
      }
    });
  }

  /**
   * {@code request}: the images go through the safety gate ({@link SafetyGate}) before anyone
   * sees them. Answers {@code {status, images}} once the first check is over: {@code completed}
   * (with the image paths), {@code failed} (blocked) or {@code safety_pending} (no answer yet; the
   * sweeper asks again). Fails STALE_ATTEMPT / BAD_MESSAGE / UNAVAILABLE.
   */
  public void result(Message<Object> message) {
    // The images come base64-encoded (megabytes per result): decoded on the node's I/O pool, not the event loop.
    io.executeBlocking(() -> BusBodies.parse(message, Result::fromJson), false).onComplete(decoded -> {
      if (decoded.failed()) {
        message.fail(BusFailure.UNAVAILABLE, "result not read: " + decoded.cause().getMessage());
      } else {
        accept(message, decoded.result());
      }
    });
  }

  private void accept(Message<Object> message, Result result) {
    if (result == null || !RequestIds.isWellFormed(result.requestId()) || result.pngs().isEmpty()
        || !result.pngs().stream().allMatch(ImageStore::isPng)) {
      message.fail(BusFailure.BAD_MESSAGE, "result needs request_id, attempt and at least one PNG image");
      return;
    }
    String id = result.requestId();
    sequencer.run(id, () -> holdIfCurrent(result)).onComplete(ar -> {
      if (ar.failed()) {
        metrics.systemError("result");
        LOG.warn("request {}: result of attempt {} not recorded: {}", id, result.attempt(), ar.cause().toString());
        message.fail(BusFailure.UNAVAILABLE, "region storage unavailable: " + ar.cause().getMessage());
      } else if (ar.result().isEmpty()) {
        metrics.discarded("result");
        LOG.info("request {}: result of stale attempt {} from worker {} discarded", id, result.attempt(), result.workerId());
        message.fail(BusFailure.STALE_ATTEMPT, "attempt " + result.attempt() + " of " + id + " is not current");
      } else {
        outcomes.succeeded(id, ar.result().get().row().model(), result.workerId()); // circuit breakers: a success
        checkHeld(ar.result().get(), result, message);
      }
    });
  }

  /** The first safety check of a held result, outside the sequencer: later reports of this attempt are stale anyway. */
  private void checkHeld(RequestLog.Change held, Result result, Message<Object> message) {
    gate.held(held);
    RequestRow row = held.row();
    gate.check(row, result.pngs()).onComplete(ar -> {
      RequestStatus status = ar.succeeded() ? ar.result() : RequestStatus.SAFETY_PENDING;
      message.reply(new JsonObject().put("status", status.wireName())
          .put("images", status == RequestStatus.COMPLETED ? SafetyGate.paths(row) : new JsonArray()));
    });
  }

  /**
   * {@code request}: the attempt failed on the worker; the {@link RetryPolicy} retries it or fails
   * it. Answers {@code {status, retry_count}} (status {@code queued} for a retry) or fails
   * STALE_ATTEMPT / BAD_MESSAGE / UNAVAILABLE.
   */
  public void failure(Message<Object> message) {
    Failure failure = BusBodies.parse(message, Failure::fromJson);
    if (failure == null || failure.requestId() == null) {
      message.fail(BusFailure.BAD_MESSAGE, "failure needs request_id and attempt");
      return;
    }
    String id = failure.requestId();
    sequencer.run(id, () -> retries.failed(failure)).onComplete(ar -> {
      if (ar.failed()) {
        metrics.systemError("failure");
        LOG.warn("request {}: failure of attempt {} not recorded: {}", id, failure.attempt(), ar.cause().toString());
        message.fail(BusFailure.UNAVAILABLE, "region storage unavailable: " + ar.cause().getMessage());
      } else if (ar.result().isEmpty()) {
        metrics.discarded("failure");
        LOG.info("request {}: failure report of stale attempt {} discarded", id, failure.attempt());
        message.fail(BusFailure.STALE_ATTEMPT, "attempt " + failure.attempt() + " of " + id + " is not current");
      } else {
        RequestRow row = ar.result().get().row();
        LOG.info("request {} attempt {} failed on worker {}: {} {} -> {}", id, failure.attempt(), failure.workerId(),
            failure.failureType(), failure.message(), row.status().wireName());
        message.reply(new JsonObject().put("status", row.status().wireName()).put("retry_count", row.retryCount()));
      }
    });
  }

  /**
   * Checks the attempt before touching the disk, so a stale result never overwrites the images
   * of the attempt that is held or completed; the hold then compare-and-sets again.
   */
  private Future<Optional<RequestLog.Change>> holdIfCurrent(Result result) {
    String id = result.requestId();
    return log.find(id).compose(row -> {
      if (row.isEmpty() || row.get().attempt() != result.attempt() || !row.get().isRunning()) {
        return Future.succeededFuture(Optional.empty());
      }
      return images.write(id, result.pngs()).compose(v -> gate.hold(id, result.attempt(), result.pngs().size()));
    });
  }
}
