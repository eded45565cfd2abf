package dev.genmesh.inference.impl;

import dev.genmesh.inference.pipeline.DiffusionPipeline;
import dev.genmesh.inference.pipeline.FaultHook;
import dev.genmesh.inference.pipeline.LoadedModel;
import dev.genmesh.inference.pipeline.StepListener;
import dev.genmesh.protocol.FailureType;
import dev.genmesh.protocol.WorkerMessages;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one gathered batch on the worker's TensorFlow executor, reports each request's steps and
 * outcome to the region (the images through {@link ImageUploads}), and recovers the worker after a failed batch (inference-verticle/WORKER.md,
 * "OOM and device errors"): an OOM lowers the batch limit and drops adapters; a device error
 * restarts the sessions, or makes the worker not live once such errors persist.
 */
public final class BatchExecution {
  private static final Logger LOG = LoggerFactory.getLogger(BatchExecution.class);

  /** What a batch changes on its worker (called on the worker's event loop). */
  public interface WorkerEffects {
    /** The request's result or failure went to the region (or it gave up): no more lease renewals. */
    void release(String requestId);

    /** The TensorFlow sessions restart (false: not ready meanwhile) or serve again (true). */
    void sessionsServing(boolean serving);

    /** Something the region should see changed: a heartbeat now. */
    void heartbeat();
  }

  private final String workerId;
  private final WorkerExecutor tf;
  private final ModelSet models;
  private final WorkerHealth health;
  private final RegionReports reports;
  private final ImageUploads uploads;
  private final RegionContact contact;
  private final StepWatchdog watchdog;
  private final FaultHook faultHook;
  private final Counter failures;
  private final Counter restarts;
  private final WorkerEffects worker;

  public BatchExecution(String workerId, WorkerExecutor tf, ModelSet models, WorkerHealth health, RegionReports reports,
      ImageUploads uploads, RegionContact contact, StepWatchdog watchdog, Counter failures, Counter restarts,
      WorkerEffects worker) {
    this.workerId = workerId;
    this.tf = tf;
    this.models = models;
    this.health = health;
    this.reports = reports;
    this.uploads = uploads;
    this.contact = contact;
    this.watchdog = watchdog;
    this.faultHook = models.faultHook();
    this.failures = failures;
    this.restarts = restarts;
    this.worker = worker;
  }

  /** Runs {@code batch} ({@code images} images in all); completes once every request is reported and the worker recovered. */
  public Future<Void> run(List<RequestRun> batch, int images) {
    return tf.executeBlocking(() -> generate(batch), false)
        .transform(done -> done.succeeded() ? handInAll(batch, done.result()) : failAll(batch, done.cause(), images));
  }

  /** On the TensorFlow thread. */
  private List<DiffusionPipeline.Outcome> generate(List<RequestRun> batch) {
    String model = batch.get(0).spec().model();
    LoadedModel loaded = models.get(model);
    if (loaded == null) {
      throw new IllegalStateException("model " + model + " is not loaded on " + workerId);
    }
    List<DiffusionPipeline.BatchItem> items = new ArrayList<>();
    for (RequestRun run : batch) {
      items.add(new DiffusionPipeline.BatchItem(run.input(), stepReporter(run), run::isCancelled));
    }
    return new DiffusionPipeline(loaded, faultHook).generateBatch(items);
  }

  private StepListener stepReporter(RequestRun run) {
    return new StepListener() {
      @Override
      public void onStep(int step, int total, long nanosInTensorFlow, long nanosTotal) {
        onStep(step, total, nanosInTensorFlow, nanosTotal, null);
      }

      @Override
      public void onStep(int step, int total, long nanosInTensorFlow, long nanosTotal, byte[] preview) {
        watchdog.stepped();
        run.stepped(step, total, System.nanoTime());
        reports.step(run, step, total, nanosInTensorFlow, nanosTotal, preview);
      }
    };
  }

  /**
   * Hands every request's outcome in. The batch is over once the images are in the spool: the
   * uploads and the results go on behind it ({@link #handIn}), so the next batch need not wait
   * for the object store.
   */
  private Future<Void> handInAll(List<RequestRun> batch, List<DiffusionPipeline.Outcome> outcomes) {
    health.onSuccess();
    List<Future<Void>> spooled = new ArrayList<>();
    for (int i = 0; i < batch.size(); i++) {
      RequestRun run = batch.get(i);
      DiffusionPipeline.Outcome outcome = outcomes.get(i);
      if (outcome.cancelled()) {
        reports.failure(run, run.isDrained() ? FailureType.DRAINED : FailureType.CANCELLED,
            outcome.cancellation().getMessage());
        continue;
      }
      if (outcome.refused()) {
        failures.increment();
        run.traced(() -> LOG.warn("[{}] refused by the pipeline on worker {}: {}", run.id(), workerId, outcome.refusal().getMessage()));
        reports.failure(run, FailureType.ERROR, outcome.refusal().getMessage());
        continue;
      }
      spooled.add(handIn(run, outcome.pngs(), batch.size()));
    }
    return Future.join(spooled).mapEmpty();
  }

  /**
   * Uploads the images, then reports the result with their keys. The worker keeps holding the
   * request (its heartbeats renew the lease) until the region took the result or it gave up; a
   * result the region calls stale has its objects deleted. Completes once the images are spooled.
   */
  private Future<Void> handIn(RequestRun run, List<byte[]> pngs, int batchSize) {
    double gpuMs = run.elapsedMs() / batchSize; // its share of the batch, before the upload's wait
    run.handingIn();
    ImageUploads.Upload upload = uploads.upload(run, pngs);
    upload.stored()
        .compose(images -> {
          var result = new WorkerMessages.Result(run.id(), run.assignment().attempt(), workerId, images, run.elapsedMs(),
              gpuMs);
          return reports.result(run, result).<Void>compose(taken -> {
            contact.answered();
            if (!taken) {
              uploads.discard(images);
            }
            return Future.succeededFuture();
          }, e -> {
            failures.increment();
            run.traced(() -> LOG.error("[{}] the region did not take the result: {}", run.id(), e.toString()));
            reports.failure(run, FailureType.ERROR, "result not delivered: " + e.getMessage());
            return Future.succeededFuture();
          });
        }, e -> {
          if (!run.isCancelled() || run.isDrained()) {
            failures.increment();
            run.traced(() -> LOG.error("[{}] images of attempt {} not stored: {}", run.id(), run.assignment().attempt(), e.getMessage()));
          }
          reports.failure(run, run.isCancelled() && !run.isDrained() ? FailureType.CANCELLED : FailureType.ERROR,
              "images not stored: " + e.getMessage());
          return Future.<Void>succeededFuture();
        })
        .onComplete(v -> worker.release(run.id()));
    return upload.spooled().recover(e -> Future.succeededFuture()); // a spool failure fails the upload above
  }

  /** The whole batch failed in TensorFlow: every request gets the typed failure, then the worker recovers. */
  private Future<Void> failAll(List<RequestRun> batch, Throwable cause, int images) {
    String type = FailureClassifier.classify(cause);
    if (!FailureType.CANCELLED.equals(type)) {
      failures.increment();
    }
    for (RequestRun run : batch) {
      worker.release(run.id()); // the region retries it elsewhere; no more lease renewals from here
      run.traced(() -> LOG.error("[{}] attempt {} failed on worker {} ({}): {}", run.id(), run.assignment().attempt(), workerId, type, cause.toString()));
      reports.failure(run, type, String.valueOf(cause.getMessage()));
    }
    if (FailureType.OOM.equals(type)) {
      health.onOom(images);
      Set<String> dropped = models.unloadAdapters();
      LOG.warn("worker {} ran out of memory with {} image(s): batch limit now {}, adapters dropped from memory: {}",
          workerId, images, health.maxBatchImages(), dropped);
      return Future.succeededFuture();
    }
    if (FailureType.GPU_ERROR.equals(type)) {
      return afterDeviceError();
    }
    return Future.succeededFuture();
  }

  /** Restarts the sessions, unless the errors have become persistent: then the worker is not live. */
  private Future<Void> afterDeviceError() {
    if (!health.onGpuError()) {
      LOG.error("worker {}: {} device errors in a row; not live any more, claiming nothing", workerId,
          health.consecutiveGpuErrors());
      worker.heartbeat();
      return Future.succeededFuture();
    }
    worker.sessionsServing(false);
    restarts.increment();
    LOG.warn("worker {}: device error; restarting its TensorFlow sessions ({} in a row)", workerId, health.consecutiveGpuErrors());
    worker.heartbeat();
    return tf.executeBlocking(() -> {
      models.restart(workerId);
      return null;
    }, false).<Void>mapEmpty().transform(restart -> {
      if (restart.succeeded()) {
        worker.sessionsServing(true);
        return Future.succeededFuture();
      }
      String type = FailureClassifier.classify(restart.cause());
      LOG.error("worker {}: restart failed ({}): {}", workerId, type, restart.cause().toString());
      if (FailureType.GPU_ERROR.equals(type)) {
        return afterDeviceError();
      }
      health.giveUp("its models would not load again after a device error (" + type + ")");
      worker.heartbeat();
      return Future.succeededFuture();
    });
  }
}
