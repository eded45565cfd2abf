package dev.genmesh.region.workers.impl;

import dev.genmesh.breakers.AttemptOutcomes;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.RequestIds;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.protocol.WorkerMessages.Failure;
import dev.genmesh.protocol.WorkerMessages.Result;
import dev.genmesh.protocol.WorkerMessages.Step;
import dev.genmesh.region.node.BusBodies;
import dev.genmesh.images.ImageKeys;
import dev.genmesh.protocol.StoredImage;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.region.queue.RetryPolicy;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.queue.impl.Retries;
import dev.genmesh.region.requests.ProgressHub;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.region.safety.SafetyGate;
import dev.genmesh.region.scheduler.AssignedRows;
import dev.genmesh.region.scheduler.EtaEstimator;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What workers report about the requests they run: steps, results, failures. Every change is a
 * compare-and-set on the attempt, so a report of a stale attempt changes nothing
 * (docs/architecture.md, I3). Reports about one request are applied in the order they arrive.
 */
public final class WorkerReports {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerReports.class);

  private final RequestLog log;
  private final TierQueue queue;
  private final ProgressHub hub;
  private final RegionMetrics metrics;
  private final Retries retries;
  private final EtaEstimator eta;
  private final SafetyGate gate;
  private final KeyedSequencer sequencer = new KeyedSequencer();
  private final AttemptOutcomes outcomes;
  private final AssignedRows assigned;

  /**
   * @param outcomes the circuit breakers, told of each current result (failures reach them through {@link Retries})
   * @param assigned the rows this node assigned (the claims' {@link AssignedRows}): a result of one is checked before
   *     it is written
   */
  public WorkerReports(RegionContext ctx, Retries retries, EtaEstimator eta, SafetyGate gate, AttemptOutcomes outcomes,
      AssignedRows assigned) {
    this.outcomes = outcomes;
    this.assigned = assigned;
    this.log = ctx.log();
    this.queue = ctx.queue();
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
   * {@code request}: the images (already in the region's object store, named by attempt-scoped
   * keys) go through the safety gate ({@link SafetyGate#take}) before anyone sees them. Answers
   * {@code {status, images}} once the first check is over: {@code completed} (with the image paths),
   * {@code failed} (blocked) or {@code safety_pending} (no answer yet; the sweeper asks again). Fails
   * STALE_ATTEMPT / BAD_MESSAGE / UNAVAILABLE. The node never reads the images' bytes.
   */
  public void result(Message<Object> message) {
    Result result = BusBodies.parse(message, Result::fromJson);
    String problem = problem(result);
    if (problem != null) {
      message.fail(BusFailure.BAD_MESSAGE, problem);
      return;
    }
    String id = result.requestId();
    RequestRow row = assigned.take(id, result.attempt()).orElse(null);
    sequencer.run(id, () -> gate.take(id, result.attempt(), result.images(), Math.round(result.gpuMs()), row))
        .onComplete(ar -> {
          if (ar.failed()) {
            metrics.systemError("result");
            LOG.warn("request {}: result of attempt {} not recorded: {}", id, result.attempt(), ar.cause().toString());
            message.fail(BusFailure.UNAVAILABLE, "region storage unavailable: " + ar.cause().getMessage());
          } else if (ar.result().isEmpty()) {
            alreadyTakenOrStale(result, message);
          } else {
            SafetyGate.Taken taken = ar.result().get();
            outcomes.succeeded(id, taken.row().model(), result.workerId()); // circuit breakers: a success
            message.reply(new JsonObject().put("status", taken.status().wireName())
                .put("images", taken.status() == RequestStatus.COMPLETED ? SafetyGate.paths(taken.row()) : new JsonArray()));
          }
        });
  }

  /**
   * A result the compare-and-set did not take: either a repeat of one this region took (the worker's
   * first hand-in timed out after the region had recorded it; the row holds this attempt's very
   * keys), answered as taken, so that the worker keeps the images the request is served with; or a
   * stale attempt, discarded (the worker deletes its objects).
   */
  private void alreadyTakenOrStale(Result result, Message<Object> message) {
    String id = result.requestId();
    log.find(id).onComplete(found -> {
      RequestRow row = found.succeeded() ? found.result().orElse(null) : null;
      if (row != null && row.attempt() == result.attempt() && sameKeys(row.images(), result.images())) {
        LOG.info("request {}: result of attempt {} from worker {} handed in again; it was taken already", id,
            result.attempt(), result.workerId());
        message.reply(new JsonObject().put("status", row.status().wireName()).put("images",
            row.status() == RequestStatus.COMPLETED ? SafetyGate.paths(row) : new JsonArray()));
        return;
      }
      metrics.discarded("result");
      LOG.info("request {}: result of stale attempt {} from worker {} discarded", id, result.attempt(), result.workerId());
      message.fail(BusFailure.STALE_ATTEMPT, "attempt " + result.attempt() + " of " + id + " is not current");
    });
  }

  private static boolean sameKeys(List<StoredImage> held, List<StoredImage> handedIn) {
    return held != null && held.size() == handedIn.size()
        && held.stream().map(StoredImage::key).toList().equals(handedIn.stream().map(StoredImage::key).toList());
  }

  /** Why a result cannot be taken; null when it can: each image under its attempt's own key, with a size and a SHA-256. */
  private static String problem(Result result) {
    if (result == null || !RequestIds.isWellFormed(result.requestId()) || result.images().isEmpty()) {
      return "result needs request_id, attempt and at least one stored image";
    }
    List<StoredImage> images = result.images();
    for (int i = 0; i < images.size(); i++) {
      StoredImage image = images.get(i);
      if (!image.isWellFormed() || !ImageKeys.isOf(image.key(), result.requestId(), result.attempt(), i)) {
        return "image " + i + " must be {key: " + ImageKeys.of(result.requestId(), result.attempt(), i)
            + ", size > 0, sha256: 64 hex digits}, got " + image;
      }
    }
    return null;
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
}
