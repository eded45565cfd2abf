package dev.genmesh.inference;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ModelConfig;
import dev.genmesh.config.WorkerConfig;
import dev.genmesh.inference.impl.FailureTypes;
import dev.genmesh.inference.impl.ModelInstaller;
import dev.genmesh.inference.pipeline.DiffusionPipeline;
import dev.genmesh.inference.pipeline.GenerationInput;
import dev.genmesh.inference.pipeline.LoadedModel;
import dev.genmesh.inference.pipeline.ModelStore;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.WorkerMessages;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An inference worker of one region. It loads its models (building the bundled one on first
 * start), passes a warm-up run, then claims work from its region over the clustered event
 * bus, runs it through TensorFlow on a dedicated worker pool, reports every denoising step,
 * hands in the PNGs, and sends heartbeats that renew its lease.
 */
public final class InferenceVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceVerticle.class);
  private static final long BUS_TIMEOUT_MS = 10_000;
  private static final int RESULT_ATTEMPTS = 5;

  private final GenmeshConfig config;
  private final WorkerConfig worker;
  private final String region;
  private final String workerId;
  private final MeterRegistry registry;
  private final Path modelRoot;
  private final Map<String, LoadedModel> models = new LinkedHashMap<>();

  private WorkerExecutor tf;
  private WorkerMessages.Assignment current;
  private final AtomicBoolean cancelCurrent = new AtomicBoolean();
  private boolean claiming;
  private boolean stopping;
  private long busySinceNanos;
  private long busyNanosInWindow;
  private long windowStartNanos = System.nanoTime();
  private Timer stepTime;
  private Counter failures;

  public InferenceVerticle(GenmeshConfig config, String region, String workerId, MeterRegistry registry, Path modelRoot) {
    this.config = config;
    this.worker = config.worker();
    this.region = region;
    this.workerId = workerId;
    this.registry = registry;
    this.modelRoot = modelRoot;
  }

  @Override
  public Future<?> start() {
    stepTime = Timer.builder("genmesh.worker.step.time").description("TensorFlow time of one denoising step")
        .tags("region", region, "worker", workerId).register(registry);
    failures = Counter.builder("genmesh.worker.failures").tags("region", region, "worker", workerId).register(registry);
    tf = vertx.createSharedWorkerExecutor("genmesh-tf-" + workerId, 1, 30, TimeUnit.MINUTES);
    return tf.executeBlocking(this::loadAndWarmUp)
        .onSuccess(v -> listen())
        .onFailure(e -> LOG.error("worker {} could not start: {}", workerId, e.toString()));
  }

  private Void loadAndWarmUp() throws Exception {
    for (String name : worker.models()) {
      ModelConfig model = config.models().get(name);
      Path dir = ModelInstaller.resolve(model, modelRoot);
      LoadedModel loaded = ModelStore.load(dir, worker.intraOpThreads(), worker.interOpThreads());
      models.put(name, loaded);
      long started = System.nanoTime();
      GenerationInput warmUp = new GenerationInput("warm-up", "", model.minSize(), model.minSize(), 1, 0L, 1.0, 1);
      DiffusionPipeline.generate(loaded, warmUp, (step, total, tfNanos, totalNanos) -> {}, () -> false);
      LOG.info("worker {} loaded {} {} from {} (warm-up {} ms)", workerId, name, model.version(), dir,
          (System.nanoTime() - started) / 1_000_000);
    }
    return null;
  }

  private void listen() {
    var bus = vertx.eventBus();
    bus.<String>consumer(Addresses.workAvailable(region), message -> claim());
    bus.<JsonObject>consumer(Addresses.cancel(region), this::onCancel);
    vertx.setPeriodic(0, worker.heartbeatIntervalMs(), id -> heartbeat());
    vertx.setPeriodic(worker.claimPollMs(), id -> claim());
    claim();
  }

  private void onCancel(Message<JsonObject> message) {
    String requestId = message.body().getString("request_id");
    if (current != null && current.requestId().equals(requestId)) {
      LOG.info("[{}] cancel received by worker {}: stopping at the next step", requestId, workerId);
      cancelCurrent.set(true);
    }
  }

  /** Asks the region for one request if idle; the region answers NO_WORK when the queues are empty. */
  private void claim() {
    if (stopping || claiming || current != null) {
      return;
    }
    claiming = true;
    var claim = new WorkerMessages.Claim(workerId, worker.gpuClass(), freeVramMb(), List.copyOf(models.keySet()));
    vertx.eventBus().<JsonObject>request(Addresses.claim(region), claim.toJson(), new DeliveryOptions().setSendTimeout(BUS_TIMEOUT_MS))
        .onComplete(reply -> {
          claiming = false;
          if (reply.succeeded()) {
            run(WorkerMessages.Assignment.fromJson(reply.result().body()));
          } else if (!(reply.cause() instanceof ReplyException re && re.failureCode() == BusFailure.NO_WORK)) {
            LOG.debug("worker {} claim failed: {}", workerId, reply.cause().toString());
          }
        });
  }

  private void run(WorkerMessages.Assignment assignment) {
    current = assignment;
    cancelCurrent.set(false);
    busySinceNanos = System.nanoTime();
    String id = assignment.requestId();
    GenerationSpec spec = assignment.spec();
    LOG.info("[{}] worker {} runs attempt {} ({} steps, {}x{})", id, workerId, assignment.attempt(), spec.steps(), spec.width(), spec.height());
    tf.executeBlocking(() -> generate(assignment), false)
        .compose(pngs -> handIn(new WorkerMessages.Result(id, assignment.attempt(), workerId, pngs, elapsedMs()), RESULT_ATTEMPTS))
        .onComplete(done -> {
          if (done.failed()) {
            reportFailure(assignment, done.cause());
          }
          busyNanosInWindow += System.nanoTime() - busySinceNanos;
          current = null;
          claim();
        });
  }

  private List<byte[]> generate(WorkerMessages.Assignment assignment) throws Exception {
    GenerationSpec spec = assignment.spec();
    LoadedModel model = models.get(spec.model());
    if (model == null) {
      throw new IllegalStateException("model " + spec.model() + " is not loaded on " + workerId);
    }
    GenerationInput input = new GenerationInput(spec.prompt(), spec.negativePrompt(), spec.width(), spec.height(),
        spec.steps(), spec.seed(), spec.guidance(), spec.batchSize());
    return DiffusionPipeline.generate(model, input, (step, total, tfNanos, totalNanos) -> {
      stepTime.record(tfNanos, TimeUnit.NANOSECONDS);
      var report = new WorkerMessages.Step(assignment.requestId(), assignment.attempt(), workerId, step, total, totalNanos / 1e6);
      vertx.eventBus().send(Addresses.progress(region), report.toJson());
    }, cancelCurrent::get);
  }

  /** Hands the images to the region, retrying with backoff; a stale attempt is dropped, not retried. */
  private Future<Void> handIn(WorkerMessages.Result result, int attemptsLeft) {
    return vertx.eventBus().request(Addresses.result(region), result.toJson(), new DeliveryOptions().setSendTimeout(BUS_TIMEOUT_MS))
        .<Void>mapEmpty()
        .recover(e -> {
          if (e instanceof ReplyException re && re.failureCode() == BusFailure.STALE_ATTEMPT) {
            LOG.info("[{}] result of attempt {} discarded by the region (request moved on)", result.requestId(), result.attempt());
            return Future.succeededFuture();
          }
          if (attemptsLeft <= 1) {
            return Future.failedFuture(e);
          }
          long delay = 200L * (RESULT_ATTEMPTS - attemptsLeft + 1);
          LOG.warn("[{}] handing in the result failed ({}), retrying in {} ms", result.requestId(), e.getMessage(), delay);
          return vertx.timer(delay).compose(t -> handIn(result, attemptsLeft - 1));
        });
  }

  private void reportFailure(WorkerMessages.Assignment assignment, Throwable cause) {
    String type = FailureTypes.classify(cause);
    String id = assignment.requestId();
    if (FailureTypes.CANCELLED.equals(type)) {
      LOG.info("[{}] stopped on worker {} after cancellation", id, workerId);
    } else {
      failures.increment();
      LOG.error("[{}] attempt {} failed on worker {} ({}): {}", id, assignment.attempt(), workerId, type, cause.toString());
    }
    var failure = new WorkerMessages.Failure(id, assignment.attempt(), workerId, type, String.valueOf(cause.getMessage()));
    vertx.eventBus().request(Addresses.failure(region), failure.toJson(), new DeliveryOptions().setSendTimeout(BUS_TIMEOUT_MS))
        .onFailure(e -> LOG.warn("[{}] region did not take the failure report: {}", id, e.getMessage()));
  }

  private void heartbeat() {
    long now = System.nanoTime();
    long busy = busyNanosInWindow + (current != null ? now - Math.max(busySinceNanos, windowStartNanos) : 0);
    double utilisation = Math.min(1.0, busy / (double) Math.max(1, now - windowStartNanos));
    busyNanosInWindow = 0;
    windowStartNanos = now;
    if (current != null) {
      busySinceNanos = now;
    }
    List<String> active = current == null ? List.of() : List.of(current.requestId());
    var beat = new WorkerMessages.Heartbeat(workerId, region, worker.gpuClass(), worker.vramMb(), freeVramMb(),
        new ArrayList<>(models.keySet()), utilisation, active, System.currentTimeMillis());
    vertx.eventBus().publish(Addresses.heartbeat(region), beat.toJson());
  }

  /** On CPU this is the worker's own memory budget: what the JVM has not used of it. */
  private long freeVramMb() {
    Runtime rt = Runtime.getRuntime();
    long usedMb = (rt.totalMemory() - rt.freeMemory()) / (1024 * 1024);
    return Math.max(0, worker.vramMb() - usedMb);
  }

  private double elapsedMs() {
    return (System.nanoTime() - busySinceNanos) / 1e6;
  }

  /** The id of the request this worker runs now, if any (for tests and health). */
  public String currentRequest() {
    WorkerMessages.Assignment running = current;
    return running == null ? null : running.requestId();
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    cancelCurrent.set(true); // the region re-queues it when the lease lapses; nothing is lost
    Future<Void> closed = tf == null ? Future.succeededFuture() : tf.close();
    return closed.onComplete(v -> {
      models.values().forEach(LoadedModel::close);
      models.clear();
    });
  }
}
