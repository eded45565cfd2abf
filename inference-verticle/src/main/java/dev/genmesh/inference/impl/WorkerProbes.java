package dev.genmesh.inference.impl;

import dev.genmesh.config.WorkerConfig;
import dev.genmesh.inference.DeviceLister.Device;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The named procedures behind a worker's {@code /health/live} and {@code /health/ready}
 * (inference-verticle/WORKER.md, "Probes"). Each answers UP or DOWN with its figures in
 * {@code data}; none throws, so the endpoints answer 200 or 503. Read from the HTTP verticle's
 * event loop: everything they read is safe from any thread.
 *
 * <p>Liveness: {@code event_loop} (the worker verticle's event loop runs a task within 2 s),
 * {@code device} (TensorFlow lists the device the GPU class needs), {@code memory} (that
 * device's memory holds the loaded models' base memory; on CPU the budget does) and
 * {@code device_errors} (the worker has not given up), {@code progress} (a running batch still
 * makes steps: {@link StepWatchdog}). Readiness: {@code models} (at least
 * one warm: the first of the load order that loaded; those still loading behind it and those
 * that failed do not count against it), {@code memory} (the idle free budget fits one more image of the
 * smallest loaded model) and {@code queue} (the region answered recently).
 */
public final class WorkerProbes {
  static final long EVENT_LOOP_TIMEOUT_MS = 2_000;

  /**
   * What the probes read of the worker.
   *
   * @param ready the first model of the load order is warm, sessions not restarting
   * @param working a TensorFlow batch or a model load runs now (the worker asks the region nothing meanwhile)
   * @param devices TensorFlow's devices; null until listed (at start, before the models load)
   * @param context the worker verticle's context; null before it is deployed
   */
  public record Worker(BooleanSupplier ready, BooleanSupplier working, Supplier<List<Device>> devices,
      Supplier<Context> context) {}

  private final WorkerConfig config;
  private final ModelSet models;
  private final WorkerHealth health;
  private final RegionContact contact;
  private final Worker worker;
  private final StepWatchdog watchdog;

  public WorkerProbes(WorkerConfig config, ModelSet models, WorkerHealth health, RegionContact contact,
      StepWatchdog watchdog, Worker worker) {
    this.watchdog = watchdog;
    this.config = config;
    this.models = models;
    this.health = health;
    this.contact = contact;
    this.worker = worker;
  }

  public void registerLiveness(Vertx vertx, HealthChecks checks) {
    checks.register("event_loop", promise -> eventLoop(vertx, promise));
    checks.register("device", promise -> promise.complete(device()));
    checks.register("memory", promise -> promise.complete(deviceMemory()));
    checks.register("device_errors", promise -> promise.complete(deviceErrors()));
    checks.register("progress", promise -> promise.complete(progress()));
  }

  public void registerReadiness(HealthChecks checks) {
    checks.register("models", promise -> promise.complete(models()));
    checks.register("memory", promise -> promise.complete(freeMemory()));
    checks.register("queue", promise -> promise.complete(queue()));
  }

  private void eventLoop(Vertx vertx, Promise<Status> promise) {
    Context context = worker.context().get();
    if (context == null) {
      promise.complete(Status.OK(new JsonObject().put("worker", "not deployed yet")));
      return;
    }
    long timer = vertx.setTimer(EVENT_LOOP_TIMEOUT_MS, id -> promise.tryComplete(Status.KO(new JsonObject()
        .put("error", "the worker's event loop did not run a task within " + EVENT_LOOP_TIMEOUT_MS + " ms"))));
    context.runOnContext(v -> {
      if (promise.tryComplete(Status.OK())) {
        vertx.cancelTimer(timer);
      }
    });
  }

  Status device() {
    List<Device> devices = worker.devices().get();
    if (devices == null) {
      return Status.OK(new JsonObject().put("devices", "not listed yet"));
    }
    JsonObject data = new JsonObject().put("gpu_class", config.gpuClass()).put("devices", names(devices));
    String problem = DeviceCheck.problem(config.gpuClass(), devices);
    return problem == null ? Status.OK(data) : Status.KO(data.put("error", problem));
  }

  Status deviceMemory() {
    List<Device> devices = worker.devices().get();
    if (devices == null) {
      return Status.OK(new JsonObject().put("devices", "not listed yet"));
    }
    long memory = DeviceCheck.memoryMb(config.gpuClass(), devices, config.vramMb());
    long base = models.baseMb();
    JsonObject data = new JsonObject()
        .put(DeviceCheck.isCpuClass(config.gpuClass()) ? "budget_mb" : "device_memory_mb", memory)
        .put("models_base_mb", base);
    if (memory <= 0) {
      return Status.KO(data.put("error", "TensorFlow reports no memory on the " + config.gpuClass() + " device"));
    }
    return memory >= base ? Status.OK(data) : Status.KO(data.put("error", "the loaded models need more than there is"));
  }

  /** A running TensorFlow batch still makes steps (a wedged device keeps everything else looking fine). */
  Status progress() {
    JsonObject data = new JsonObject().put("silent_ms", watchdog.silentMs()).put("limit_ms", watchdog.limitMs());
    return watchdog.stalled()
        ? Status.KO(data.put("error", "the running batch made no step for " + watchdog.silentMs() + " ms"))
        : Status.OK(data);
  }

  Status deviceErrors() {
    JsonObject data = new JsonObject().put("consecutive_gpu_errors", health.consecutiveGpuErrors())
        .put("max_consecutive_gpu_errors", config.maxConsecutiveGpuErrors());
    return health.live() ? Status.OK(data) : Status.KO(data.put("error", "gave up: " + health.notLiveReason()));
  }

  Status models() {
    List<String> loaded = models.names();
    JsonObject data = new JsonObject().put("loaded", new JsonArray(loaded))
        .put("loading", new JsonArray(models.loading()))
        .put("failed", new JsonObject(new java.util.LinkedHashMap<>(models.failures().reasons())));
    if (!health.live()) {
      return Status.KO(data.put("error", "not live: " + health.notLiveReason()));
    }
    if (!worker.ready().getAsBoolean() || loaded.isEmpty()) {
      return Status.KO(data.put("error", loaded.isEmpty() ? "no model loaded yet" : "restarting its TensorFlow sessions"));
    }
    return Status.OK(data);
  }

  Status freeMemory() {
    long free = Math.max(0, config.vramMb() - models.baseMb());
    long need = models.smallestNeedMb();
    JsonObject data = new JsonObject().put("free_mb", free).put("smallest_need_mb", need);
    return free >= need ? Status.OK(data)
        : Status.KO(data.put("error", "not enough memory left for one image of any loaded model"));
  }

  Status queue() {
    long since = contact.sinceLastAnswerMs();
    JsonObject data = new JsonObject().put("last_answer_ms_ago", since).put("window_ms", contact.windowMs());
    if (worker.working().getAsBoolean()) {
      return Status.OK(data.put("working", true));
    }
    if (contact.healthy()) {
      return Status.OK(data);
    }
    return Status.KO(data.put("error", since < 0 ? "the region has not answered a claim yet"
        : "the region has not answered for " + since + " ms"));
  }

  private static JsonArray names(List<Device> devices) {
    return new JsonArray(devices.stream().map(Device::name).toList());
  }
}
