package dev.genmesh.inference;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.WorkerConfig;
import dev.genmesh.inference.impl.Admission;
import dev.genmesh.inference.impl.BatchExecution;
import dev.genmesh.inference.impl.FailureTypes;
import dev.genmesh.inference.impl.ModelLoadFailures;
import dev.genmesh.inference.impl.ModelSet;
import dev.genmesh.inference.impl.RegionContact;
import dev.genmesh.inference.impl.RegionReports;
import dev.genmesh.inference.impl.RequestRun;
import dev.genmesh.inference.impl.StepWatchdog;
import dev.genmesh.inference.impl.WarmUpSequence;
import dev.genmesh.inference.impl.WorkerDrain;
import dev.genmesh.inference.impl.WorkerHealth;
import dev.genmesh.inference.impl.WorkerProbes;
import dev.genmesh.inference.pipeline.FaultHook;
import dev.genmesh.inference.registry.ModelSource;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.WorkerMessages;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An inference worker of one region. It asks its region which model to load first, loads it
 * (building bundled ones on first start) and passes a warm-up run before it reports ready
 * ({@link WarmUpSequence}); then it claims work for its warm models from its region over the
 * clustered event bus while the others load behind, gathers compatible requests into one
 * TensorFlow batch, runs it on a dedicated thread ({@link BatchExecution}), reports every
 * denoising step (with previews when asked), hands in each request's PNGs, and sends heartbeats
 * that renew its leases. Told to drain, it leaves once idle ({@link WorkerDrain}).
 *
 * <p>Failures: an OOM lowers the batch limit and drops adapters from memory; a device error
 * restarts the TensorFlow sessions; device errors in a row (or a device TensorFlow does not list)
 * make the worker not live, and it stops claiming. A request whose memory estimate exceeds the
 * budget fails as OOM unrun. A model that does not load leaves the others serving: the worker
 * still claims it, tries to load it again when a request for it comes (with a backoff), and
 * fails that request as {@code model_load_failed} if it still does not load.
 *
 * <p>{@link WorkerHttp} serves its probes and metrics.
 */
public final class InferenceVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceVerticle.class);
  private static final long BUS_TIMEOUT_MS = 10_000;

  private final WorkerConfig worker;
  private final String region;
  private final String workerId;
  private final MeterRegistry registry;
  private final ModelSource modelSource;
  private final ModelSet models;
  private final WorkerHealth health;
  private final Admission admission;
  private final DeviceLister deviceLister;
  private final RegionContact contact;
  private final WarmUpSequence warmUp;
  /** A batch without a step for far too long makes the worker not live (heartbeat and probe). */
  private final StepWatchdog watchdog = new StepWatchdog(System::nanoTime);

  private WorkerExecutor tf;
  private RegionReports reports;
  private BatchExecution batches;
  /** Every request this worker holds (running, waiting for its turn, handing in): event loop only. */
  private final Map<String, RequestRun> held = new LinkedHashMap<>();
  /** Claimed while gathering a batch but not compatible with it: runs next. */
  private final Deque<RequestRun> pending = new ArrayDeque<>();
  private List<RequestRun> running = List.of();
  private long runningEstimateMb;
  private boolean busy;
  private boolean stopping;
  private final WorkerDrain drain;
  private volatile boolean ready;
  /** A TensorFlow batch or a model load runs (for the probes). */
  private volatile boolean working;
  private volatile int httpPort;
  private volatile Context workerContext;
  private long busySinceNanos;
  private long busyNanosInWindow;
  private long windowStartNanos = System.nanoTime();
  private Counter failures;
  private Counter restarts;

  /** Models built locally (bundled) or read from their configured path; no registry. */
  public InferenceVerticle(GenmeshConfig config, String region, String workerId, MeterRegistry registry, Path modelRoot) {
    this(config, region, workerId, registry, modelRoot, ModelSource.local(config.models(), modelRoot), FaultHook.NONE);
  }

  /** Models from {@code modelSource} (e.g. the region's registry), which may also switch their versions at run time. */
  public InferenceVerticle(GenmeshConfig config, String region, String workerId, MeterRegistry registry, Path modelRoot,
      ModelSource modelSource) {
    this(config, region, workerId, registry, modelRoot, modelSource, FaultHook.NONE);
  }

  /** With a fault hook that tests use to induce TensorFlow's OOM and device errors at chosen steps. */
  public InferenceVerticle(GenmeshConfig config, String region, String workerId, MeterRegistry registry, Path modelRoot,
      FaultHook faultHook) {
    this(config, region, workerId, registry, modelRoot, ModelSource.local(config.models(), modelRoot), faultHook);
  }

  public InferenceVerticle(GenmeshConfig config, String region, String workerId, MeterRegistry registry, Path modelRoot,
      ModelSource modelSource, FaultHook faultHook) {
    this(config, region, workerId, registry, modelSource, WorkerOptions.defaults().withFaultHook(faultHook));
  }

  /** Models from {@code modelSource}, with the fault hook, device lister and clock of {@code options}. */
  public InferenceVerticle(GenmeshConfig config, String region, String workerId, MeterRegistry registry,
      ModelSource modelSource, WorkerOptions options) {
    this.worker = config.worker();
    this.region = region;
    this.workerId = workerId;
    this.registry = registry;
    this.modelSource = modelSource;
    this.models = new ModelSet(config, modelSource, options.faultHook(), new ModelLoadFailures(options.clock()));
    this.health = new WorkerHealth(worker.maxBatchImages(), worker.maxConsecutiveGpuErrors());
    this.admission = new Admission(models, health, workerId);
    this.deviceLister = options.deviceLister() != null ? options.deviceLister() : DeviceLister.tensorFlow(models.session());
    this.contact = new RegionContact(options.clock(), worker.claimPollMs());
    this.drain = new WorkerDrain(workerId, config.autoscaling().drainDeadlineMs(), new WorkerDrain.Worker() {
      @Override
      public Set<String> held() {
        return new java.util.LinkedHashSet<>(held.keySet());
      }

      @Override
      public int drainHeld(double finishWithinMs) {
        for (RequestRun run : List.copyOf(pending)) {
          pending.remove(run);
          held.remove(run.id());
          reports.failure(run, FailureTypes.DRAINED, "worker drained before it started");
        }
        int finishing = 0;
        for (RequestRun run : held.values()) {
          if (run.remainingMs() <= finishWithinMs) {
            finishing++;
          } else {
            run.drain();
          }
        }
        return finishing;
      }

      @Override
      public boolean idle() {
        return !stopping && !busy && held.isEmpty() && pending.isEmpty();
      }

      @Override
      public void heartbeat() {
        InferenceVerticle.this.heartbeat();
      }

      @Override
      public void leave() {
        vertx.undeploy(deploymentID());
      }
    });
    this.warmUp = new WarmUpSequence(region, workerId, worker, models, deviceLister, registry);
  }

  @Override
  public Future<?> start() {
    workerContext = context;
    Timer stepTime = Timer.builder("genmesh.worker.step.time").description("TensorFlow time of one denoising step of a request")
        .tags("region", region, "worker", workerId).register(registry);
    failures = Counter.builder("genmesh.worker.failures").tags("region", region, "worker", workerId).register(registry);
    restarts = Counter.builder("genmesh.worker.session.restarts").description("TensorFlow sessions restarted after device errors")
        .tags("region", region, "worker", workerId).register(registry);
    reports = new RegionReports(vertx, region, workerId, stepTime);
    tf = vertx.createSharedWorkerExecutor("genmesh-tf-" + workerId, 1, 30, TimeUnit.MINUTES);
    batches = new BatchExecution(workerId, tf, models, health, reports, contact, watchdog, failures, restarts,
        new BatchExecution.Worker() {
          @Override
          public void release(String requestId) {
            held.remove(requestId);
          }

          @Override
          public void sessionsServing(boolean serving) {
            ready = serving;
            heartbeat();
          }

          @Override
          public void heartbeat() {
            InferenceVerticle.this.heartbeat();
          }
        });
    modelSource.attach(vertx);
    vertx.setPeriodic(0, worker.heartbeatIntervalMs(), id -> heartbeat()); // ready=false until warmed up
    // From the start: a worker still warming up may be the first one a scale-down drains.
    vertx.eventBus().<JsonObject>consumer(Addresses.drain(region, workerId), message -> drain.onDrain(vertx, message));
    return warmUp.untilFirstWarm(vertx, tf).onSuccess(missing -> {
      if (missing != null) {
        // Serving on the wrong device (TF falls back to the CPU silently) would be slow and
        // wrong: not live, no claims, and Kubernetes replaces the pod.
        LOG.error("worker {}: {}; not live, claiming nothing", workerId, missing);
        health.giveUp(missing);
        heartbeat();
        return;
      }
      ready = true;
      LOG.info("worker {}: ready with {}; loading {} behind", workerId, models.names(), models.loading());
      heartbeat();
      listen(); // claims list what is warm now; the rest become claimable as they load
      modelSource.watch(this::loadedVersions, this::switchModel);
      warmUp.loadRest(tf, () -> {
        heartbeat();
        claim();
      }, () -> stopping || drain.draining());
    }).onFailure(e -> LOG.error("worker {} could not start: {}", workerId, e.toString()));
  }

  /**
   * Runs another version of a model from now on. The TF executor runs one task at a time, so the
   * switch falls between two batches; the old version is closed right after.
   */
  private Future<Void> switchModel(ModelSource.Resolved resolved) {
    return tf.executeBlocking(() -> {
      models.switchTo(resolved, workerId);
      return null;
    }).<Void>mapEmpty().onSuccess(v -> heartbeat());
  }

  private void listen() {
    var bus = vertx.eventBus();
    bus.<String>consumer(Addresses.workAvailable(region), message -> claim());
    bus.<JsonObject>consumer(Addresses.cancel(region), this::onCancel);
    vertx.setPeriodic(worker.claimPollMs(), id -> claim());
    claim();
  }

  private void onCancel(Message<JsonObject> message) {
    RequestRun run = held.get(message.body().getString("request_id"));
    if (run == null) {
      return;
    }
    LOG.info("[{}] cancel received by worker {}: stopping at the next step", run.id(), workerId);
    run.cancel();
    if (pending.remove(run)) {
      held.remove(run.id());
      reports.failure(run, FailureTypes.CANCELLED, "cancelled before it started");
    }
  }

  /** Asks the region for work if idle, gathers what can share its batch, and runs it. */
  private void claim() {
    if (drain.draining()) {
      drain.leaveIfIdle();
      return;
    }
    if (stopping || busy || !ready || !health.live()) {
      return;
    }
    busy = true;
    if (!pending.isEmpty()) {
      begin(pending.poll());
      return;
    }
    askForWork(null).onComplete(reply -> {
      if (reply.failed() || reply.result() == null) {
        busy = false;
        return;
      }
      RequestRun first = new RequestRun(reply.result());
      held.put(first.id(), first);
      begin(first);
    });
  }

  private void begin(RequestRun first) {
    String model = first.spec().model();
    if (models.get(model) == null && models.failures().get(model) != null) {
      loadThenBegin(first, model);
      return;
    }
    Admission.Refusal refusal = admission.refusal(first);
    if (refusal != null) {
      LOG.warn("[{}] refused by worker {} without running ({}): {}", first.id(), workerId, refusal.failureType(),
          refusal.reason());
      failures.increment();
      held.remove(first.id());
      reports.failure(first, refusal.failureType(), refusal.reason());
      busy = false;
      claim();
      return;
    }
    gather(new ArrayList<>(List.of(first))).onComplete(batch -> run(batch.result()));
  }

  /**
   * A request for a model that failed to load: one more attempt (pull again, verify, load, warm up)
   * when its backoff has passed, then the request runs; otherwise, or if it fails again, the
   * request fails as {@code model_load_failed} and the region retries it on another worker.
   */
  private void loadThenBegin(RequestRun first, String model) {
    ModelLoadFailures.Failure last = models.failures().get(model);
    if (!models.failures().mayTry(model)) {
      loadFailed(first, model + " did not load on worker " + workerId + " (" + last.reason() + "); next attempt not before "
          + last.nextAttempt());
      return;
    }
    LOG.info("[{}] worker {} tries to load {} again (attempt {})", first.id(), workerId, model, last.attempts() + 1);
    working = true;
    tf.executeBlocking(() -> {
      models.retry(model, workerId);
      return null;
    }, false).onComplete(done -> {
      working = false;
      if (done.succeeded()) {
        heartbeat();
        begin(first);
      } else {
        loadFailed(first, model + " did not load on worker " + workerId + ": " + done.cause().getMessage());
      }
    });
  }

  private void loadFailed(RequestRun run, String reason) {
    LOG.warn("[{}] refused by worker {} ({}): {}", run.id(), workerId, FailureTypes.MODEL_LOAD_FAILED, reason);
    failures.increment();
    held.remove(run.id());
    reports.failure(run, FailureTypes.MODEL_LOAD_FAILED, reason);
    busy = false;
    claim();
  }

  /**
   * Claims more requests that can share the first one's TensorFlow batch, while there is room
   * under the batch limit and the memory budget. The claim carries a {@code batch_with} hint; a
   * region that ignores it may answer with anything, and a request that does not fit waits for
   * the next batch instead.
   */
  private Future<List<RequestRun>> gather(List<RequestRun> batch) {
    GenerationSpec first = batch.get(0).spec();
    int room = admission.capacity(first) - batch.stream().mapToInt(r -> r.spec().batchSize()).sum();
    if (room < 1 || stopping) {
      return Future.succeededFuture(batch);
    }
    var hint = WorkerMessages.BatchHint.of(first, room);
    return askForWork(hint).compose(assignment -> {
      if (assignment == null) {
        return Future.succeededFuture(batch);
      }
      RequestRun run = new RequestRun(assignment);
      held.put(run.id(), run);
      if (hint.matches(run.spec()) && admission.refusal(run) == null) {
        batch.add(run);
        return gather(batch);
      }
      pending.add(run);
      return Future.succeededFuture(batch);
    }, e -> Future.succeededFuture(batch));
  }

  /** The region's next request (null when it has none), or only one that can join a batch. */
  private Future<WorkerMessages.Assignment> askForWork(WorkerMessages.BatchHint batchWith) {
    var claim = new WorkerMessages.Claim(workerId, worker.gpuClass(), freeVramMb(), models.claimable(), batchWith);
    return vertx.eventBus().<JsonObject>request(Addresses.claim(region), claim.toJson(),
            new DeliveryOptions().setSendTimeout(BUS_TIMEOUT_MS))
        .map(reply -> {
          contact.answered();
          return WorkerMessages.Assignment.fromJson(reply.body());
        })
        .recover(e -> {
          if (e instanceof ReplyException re && re.failureCode() == BusFailure.NO_WORK) {
            contact.answered();
          } else {
            LOG.debug("worker {} claim failed: {}", workerId, e.toString());
          }
          return Future.succeededFuture(null);
        });
  }

  private void run(List<RequestRun> batch) {
    running = List.copyOf(batch);
    working = true;
    watchdog.batchStarted();
    busySinceNanos = System.nanoTime();
    GenerationSpec spec = batch.get(0).spec();
    int images = batch.stream().mapToInt(r -> r.spec().batchSize()).sum();
    runningEstimateMb = models.estimateMb(spec.model(), spec.width(), spec.height(), images);
    batch.forEach(r -> LOG.info("[{}] worker {} runs attempt {} ({} steps, {}x{}, batch of {} request(s), {} image(s))",
        r.id(), workerId, r.assignment().attempt(), spec.steps(), spec.width(), spec.height(), batch.size(), images));
    batches.run(batch, images).onComplete(v -> {
      batch.forEach(r -> held.remove(r.id()));
      busyNanosInWindow += System.nanoTime() - Math.max(busySinceNanos, windowStartNanos);
      running = List.of();
      working = false;
      watchdog.batchEnded();
      runningEstimateMb = 0;
      busy = false;
      claim();
    });
  }

  private void heartbeat() {
    long now = System.nanoTime();
    long busyNanos = busyNanosInWindow + (running.isEmpty() ? 0 : now - Math.max(busySinceNanos, windowStartNanos));
    double utilisation = Math.min(1.0, busyNanos / (double) Math.max(1, now - windowStartNanos));
    busyNanosInWindow = 0;
    windowStartNanos = now;
    var beat = new WorkerMessages.Heartbeat(workerId, region, worker.gpuClass(), worker.vramMb(), freeVramMb(),
        models.names(), utilisation, new ArrayList<>(held.keySet()), System.currentTimeMillis(), models.versions(),
        ready, health.live() && !watchdog.stalled(), health.maxBatchImages(), models.failedNames(), httpPort, nodeId(),
        stopping || drain.draining());
    vertx.eventBus().publish(Addresses.heartbeat(region), beat.toJson());
  }

  /** This worker's cluster member id, so the region notices at once when the member leaves; null outside a cluster. */
  private String nodeId() {
    return vertx.isClustered() ? ((io.vertx.core.internal.VertxInternal) vertx).clusterManager().getNodeId() : null;
  }

  /**
   * The memory budget less the loaded models' declared base memory and the estimate of the batch
   * it runs, all from the manifests (on CPU the budget is what the worker allows itself). Not
   * the JVM heap: it wanders with garbage collection, and the region compares this figure
   * between claims (an OOM retry needs a worker with more).
   */
  private long freeVramMb() {
    return Math.max(0, worker.vramMb() - models.baseMb() - runningEstimateMb);
  }

  /** The id of the first request this worker runs now, if any (for tests and health). */
  public String currentRequest() {
    List<RequestRun> now = running;
    return now.isEmpty() ? null : now.get(0).id();
  }

  /**
   * True once the first model of the load order is warm (more may still be loading behind it);
   * false again while the sessions restart.
   */
  public boolean ready() {
    return ready;
  }

  /** False once device errors became persistent, or when TensorFlow does not list the configured device. */
  public boolean live() {
    return health.live();
  }

  /** The most images one TensorFlow batch may hold now: {@code worker.max_batch_images}, halved by each OOM. */
  public int maxBatchImages() {
    return health.maxBatchImages();
  }

  /** The order the worker loads its models in: the region's answer, or the configured order. */
  public List<String> loadOrder() {
    return warmUp.order().models();
  }

  /** Configured models still waiting to load behind the first (not claimed until warm). */
  public List<String> loadingModels() {
    return models.loading();
  }

  /** Completes once every model of the load order was tried (loaded or failing); fails if the start failed. */
  public Future<Void> warmUpFinished() {
    return warmUp.allTried();
  }

  /** Configured models that could not be loaded (the worker still claims them and tries again on demand). */
  public List<String> failedModels() {
    return models.failedNames();
  }

  /** For {@link WorkerHttp}: the probes' procedures over this worker's state. */
  WorkerProbes probes() {
    return new WorkerProbes(worker, models, health, contact, watchdog, new WorkerProbes.Worker(
        () -> ready, () -> working, warmUp::devices, () -> workerContext));
  }

  /** For {@link WorkerHttp}: the port it listens on, reported in heartbeats. */
  void httpPort(int port) {
    httpPort = port;
  }

  /** Loaded model name → the version it runs. */
  public Map<String, String> loadedVersions() {
    return models.versions();
  }

  /** Adapters held in memory, as {@code model:name@version}. */
  public Set<String> loadedAdapters() {
    return models.loadedAdapters();
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    heartbeat(); // draining: the region gives it no new work while it stops
    held.values().forEach(RequestRun::cancel); // the region re-queues them when the leases lapse; nothing is lost
    return modelSource.close()
        .transform(v -> tf == null ? Future.<Void>succeededFuture() : tf.close())
        .onComplete(v -> models.close());
  }
}
