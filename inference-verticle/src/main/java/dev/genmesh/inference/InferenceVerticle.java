package dev.genmesh.inference;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ImagesConfig;
import dev.genmesh.config.WorkerConfig;
import dev.genmesh.inference.impl.Admission;
import dev.genmesh.images.ImageStore;
import dev.genmesh.images.ImageStores;
import dev.genmesh.inference.impl.BatchExecution;
import dev.genmesh.inference.impl.ImageUploads;
import dev.genmesh.inference.impl.ModelLoadFailures;
import dev.genmesh.inference.impl.ModelSet;
import dev.genmesh.inference.impl.RegionContact;
import dev.genmesh.inference.impl.RegionReports;
import dev.genmesh.inference.impl.StepWatchdog;
import dev.genmesh.inference.impl.WarmUpSequence;
import dev.genmesh.inference.impl.WorkerDrain;
import dev.genmesh.inference.impl.WorkerHealth;
import dev.genmesh.inference.impl.WorkerProbes;
import dev.genmesh.inference.impl.WorkLoop;
import dev.genmesh.inference.pipeline.FaultHook;
import dev.genmesh.inference.registry.ModelSource;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.WorkerMessages;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An inference worker of one region: warms up ({@link WarmUpSequence}), claims work for its warm
 * models over the region's event bus ({@link WorkLoop}), runs batches on its TensorFlow thread
 * ({@link BatchExecution}), uploads the images to the region's object store ({@link ImageUploads}),
 * reports steps and results, renews leases with heartbeats, and drains
 * when told ({@link WorkerDrain}). What it does on OOM, device errors and model-load failures:
 * inference-verticle/WORKER.md. {@link WorkerHttp} serves its probes and metrics.
 */
public final class InferenceVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceVerticle.class);

  private final WorkerConfig worker;
  private final ImagesConfig imagesConfig;
  private final Path spoolDir;
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
  /** The cluster member this worker runs on (null outside a cluster): the region notices at once when it leaves. */
  private final String clusterNodeId;
  /** A batch without a step for far too long makes the worker not live (heartbeat and probe). */
  private final StepWatchdog watchdog = new StepWatchdog(System::nanoTime);

  private WorkerExecutor tf;
  private WorkerExecutor decoding;
  /** The spool's disk work (hashing, writing, reading back): never the TensorFlow thread or the event loop. */
  private WorkerExecutor spooling;
  private RegionReports reports;
  private ImageStore images;
  private ImageUploads uploads;
  private volatile WorkLoop loop;
  private boolean stopping;
  private final WorkerDrain drain;
  private volatile boolean ready;
  private volatile int httpPort;
  private volatile Context workerContext;
  private Counter failures;
  private Counter restarts;
  /** Times the worker found its region out of its cluster view and stopped claiming ({@link WorkerOptions#regionInView}). */
  private Counter cutOffs;
  private final BooleanSupplier regionInView;
  private boolean cutOff;

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

  /** Models from {@code modelSource}, with the fault hook, device lister, clock and cluster node id of {@code options}. */
  public InferenceVerticle(GenmeshConfig config, String region, String workerId, MeterRegistry registry,
      ModelSource modelSource, WorkerOptions options) {
    this.worker = config.worker();
    this.imagesConfig = config.images();
    this.spoolDir = options.spoolDir() != null ? options.spoolDir()
        : imagesConfig.spoolDir().isBlank() ? null : Path.of(imagesConfig.spoolDir()).resolve(workerId);
    this.region = region;
    this.workerId = workerId;
    this.registry = registry;
    this.modelSource = modelSource;
    this.clusterNodeId = options.clusterNodeId();
    this.regionInView = options.regionInView();
    this.models = new ModelSet(config, modelSource, options.faultHook(), new ModelLoadFailures(options.clock()));
    this.health = new WorkerHealth(worker.maxBatchImages(), worker.maxConsecutiveGpuErrors());
    this.admission = new Admission(models, health, workerId);
    this.deviceLister = options.deviceLister() != null ? options.deviceLister() : DeviceLister.tensorFlow(models.session());
    this.contact = new RegionContact(options.clock(), worker.claimPollMs());
    this.drain = new WorkerDrain(workerId, config.autoscaling().drainDeadlineMs(), new WorkerDrain.Drainable() {
      @Override
      public Set<String> held() {
        return loop == null ? Set.of() : loop.heldIds();
      }

      @Override
      public int drainHeld(double finishWithinMs) {
        return loop == null ? 0 : loop.drainHeld(finishWithinMs);
      }

      @Override
      public boolean idle() {
        return !stopping && (loop == null || loop.idle());
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
    cutOffs = Counter.builder("genmesh.worker.region_out_of_view")
        .description("Times the worker's cluster view lost every region node and it stopped claiming")
        .tags("region", region, "worker", workerId).register(registry);
    restarts = Counter.builder("genmesh.worker.session.restarts").description("TensorFlow sessions restarted after device errors")
        .tags("region", region, "worker", workerId).register(registry);
    reports = new RegionReports(vertx, region, workerId, stepTime);
    tf = vertx.createSharedWorkerExecutor("genmesh-tf-" + workerId, 1, 30, TimeUnit.MINUTES);
    decoding = vertx.createSharedWorkerExecutor("genmesh-decode-" + workerId, 1);
    spooling = vertx.createSharedWorkerExecutor("genmesh-spool-" + workerId, 1);
    images = ImageStores.s3(vertx, imagesConfig.forRegion(region));
    uploads = new ImageUploads(vertx, region, workerId, images, spooling, spool(), imagesConfig.spoolMaxBytes(),
        imagesConfig.uploadGiveUpMs(), registry, () -> {
          if (loop != null) {
            loop.claim();
          }
        });
    BatchExecution batches = new BatchExecution(workerId, tf, models, health, reports, uploads, contact, watchdog, failures,
        restarts,
        new BatchExecution.WorkerEffects() {
          @Override
          public void release(String requestId) {
            loop.release(requestId);
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
    loop = new WorkLoop(vertx, region, workerId, worker, models, admission, contact, reports, batches, tf, decoding, watchdog,
        failures, new WorkLoop.ClaimGate() {
          @Override
          public boolean mayClaim() {
            return ready && health.live() && !stopping && !drain.draining() && uploads.hasRoom() && regionInView();
          }

          @Override
          public boolean draining() {
            return drain.draining();
          }

          @Override
          public void leaveIfDrained() {
            drain.leaveIfIdle();
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
    return uploads.start().compose(v -> warmUp.untilFirstWarm(vertx, tf)).onSuccess(missing -> {
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
      loop.listen(); // claims list what is warm now; the rest become claimable as they load
      modelSource.watch(this::loadedVersions, this::switchModel);
      warmUp.loadRest(tf, () -> {
        heartbeat();
        loop.claim();
      }, () -> stopping || drain.draining());
    }); // a failure is reported once, by whoever deployed it
  }

  /** The configured spool, else a temporary folder of this worker's own. */
  private Path spool() {
    if (spoolDir != null) {
      return spoolDir;
    }
    try {
      return java.nio.file.Files.createTempDirectory("genmesh-spool-" + workerId + "-");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("no spool folder for worker " + workerId, e);
    }
  }

  /** Bytes of images waiting in the spool for their upload. */
  public long spooledBytes() {
    return uploads == null ? 0 : uploads.spooledBytes();
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

  private void heartbeat() {
    double utilisation = loop == null ? 0 : loop.takeUtilisation();
    var beat = new WorkerMessages.Heartbeat(workerId, region, worker.gpuClass(), worker.vramMb(),
        loop == null ? Math.max(0, worker.vramMb() - models.baseMb()) : loop.freeVramMb(),
        models.names(), utilisation, loop == null ? new ArrayList<>() : new ArrayList<>(loop.heldIds()),
        System.currentTimeMillis(), models.versions(),
        ready, health.live() && !watchdog.stalled(), health.maxBatchImages(), models.failedNames(), httpPort, clusterNodeId,
        stopping || drain.draining());
    vertx.eventBus().publish(Addresses.heartbeat(region), beat.toJson());
  }

  /** The id of the first request this worker runs now, if any (for tests and health). */
  public String currentRequest() {
    return loop == null ? null : loop.currentRequest();
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
        () -> ready, () -> loop != null && loop.working(), warmUp::devices, () -> workerContext));
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
    if (loop != null) {
      loop.cancelAll(); // the region re-queues them when the leases lapse; nothing is lost
    }
    if (uploads != null) {
      uploads.close();
    }
    return modelSource.close()
        .transform(v -> images == null ? Future.<Void>succeededFuture() : images.close())
        .transform(v -> spooling == null ? Future.<Void>succeededFuture() : spooling.close())
        .transform(v -> decoding == null ? Future.<Void>succeededFuture() : decoding.close())
        .transform(v -> tf == null ? Future.<Void>succeededFuture() : tf.close())
        .onComplete(v -> models.close());
  }

  /** Whether a region node is in the worker's cluster view; logs and counts each change (event loop). */
  private boolean regionInView() {
    boolean inView = regionInView.getAsBoolean();
    if (inView == cutOff) {
      cutOff = !inView;
      if (cutOff) {
        cutOffs.increment();
        LOG.warn("worker {}: no region node of {} in its cluster view (dropped from the cluster, or every node gone):"
            + " it claims nothing until one is back", workerId, region);
      } else {
        LOG.info("worker {}: a region node of {} is in view again; claiming", workerId, region);
      }
    }
    return inView;
  }
}
