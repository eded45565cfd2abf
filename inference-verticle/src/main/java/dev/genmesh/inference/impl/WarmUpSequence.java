package dev.genmesh.inference.impl;

import dev.genmesh.config.WorkerConfig;
import dev.genmesh.inference.DeviceLister;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.scaling.WarmupOrder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's start-up (inference-verticle/WORKER.md, "Start and readiness"): it asks the region
 * which of its models to load first ({@link Addresses#warmup}), checks that TensorFlow lists its
 * device, loads and warms up the first model of that order (the worker is ready then), and loads
 * the others behind it, one TensorFlow task each, so that batches run between them.
 */
public final class WarmUpSequence {
  private static final Logger LOG = LoggerFactory.getLogger(WarmUpSequence.class);
  /** A region that does not answer this quickly is not waited for: the configured order serves. */
  static final long ASK_TIMEOUT_MS = 3_000;

  private final String region;
  private final String workerId;
  private final WorkerConfig worker;
  private final ModelSet models;
  private final DeviceLister deviceLister;
  private final Counter answered;
  private final Counter unanswered;
  private final Timer timeToReady;
  private final Promise<Void> allTried = Promise.promise();
  private final long startedNanos = System.nanoTime();
  private volatile LoadOrder order;
  /** The models of the order behind the first warm one. */
  private volatile List<String> rest = List.of();
  /** TensorFlow's devices, listed once at start (the list is fixed for the process); null before. */
  private volatile List<DeviceLister.Device> devices;

  public WarmUpSequence(String region, String workerId, WorkerConfig worker, ModelSet models,
      DeviceLister deviceLister, MeterRegistry registry) {
    this.region = region;
    this.workerId = workerId;
    this.worker = worker;
    this.models = models;
    this.deviceLister = deviceLister;
    this.order = LoadOrder.configured(worker.models());
    String orders = "genmesh.worker.warmup.orders";
    this.answered = Counter.builder(orders).description("Load orders at start, by where they came from")
        .tags("region", region, "worker", workerId, "source", "region").register(registry);
    this.unanswered = Counter.builder(orders).description("Load orders at start, by where they came from")
        .tags("region", region, "worker", workerId, "source", LoadOrder.CONFIGURED).register(registry);
    this.timeToReady = Timer.builder("genmesh.worker.time_to_ready")
        .description("From start to the first model warm (the worker takes work)")
        .tags("region", region, "worker", workerId).register(registry);
    Gauge.builder("genmesh.worker.models.loading", models, m -> m.loading().size())
        .description("Configured models not loaded yet (neither warm nor failing)")
        .tags("region", region, "worker", workerId).register(registry);
  }

  /**
   * Asks for the order, lists the devices and loads models of the order until one is warm.
   *
   * @return null once a model is warm; what is missing when TensorFlow does not list the device
   *     the GPU class needs (nothing is loaded then); failed when no model loads
   */
  public Future<String> untilFirstWarm(Vertx vertx, WorkerExecutor tf) {
    return askOrder(vertx).compose(asked -> {
      order = asked;
      return tf.executeBlocking(() -> {
        String missing = checkDevice();
        return missing != null ? new FirstWarm(missing, List.of())
            : new FirstWarm(null, models.loadFirstOf(asked.models(), workerId));
      });
    }).map(first -> {
      rest = first.rest();
      if (first.missing() == null) {
        timeToReady.record(System.nanoTime() - startedNanos, TimeUnit.NANOSECONDS);
      } else {
        allTried.tryFail(first.missing());
      }
      return first.missing();
    }).onFailure(allTried::tryFail);
  }

  private record FirstWarm(String missing, List<String> rest) {}

  /**
   * Loads the models behind the first, one TensorFlow task each (a batch may run between two),
   * calling {@code afterEach} on the event loop when one is warm or failed. Stops when
   * {@code stopping} says so.
   */
  public void loadRest(WorkerExecutor tf, Runnable afterEach, BooleanSupplier stopping) {
    loadFrom(0, tf, afterEach, stopping);
  }

  private void loadFrom(int index, WorkerExecutor tf, Runnable afterEach, BooleanSupplier stopping) {
    List<String> names = rest;
    if (index >= names.size() || stopping.getAsBoolean()) {
      if (index >= names.size() && !names.isEmpty()) {
        LOG.info("worker {}: warm-up done; loaded {}, failing {}", workerId, models.names(), models.failedNames());
      }
      allTried.tryComplete();
      return;
    }
    String name = names.get(index);
    tf.executeBlocking(() -> models.tryLoad(name, workerId), false).onComplete(done -> {
      if (done.failed()) { // the executor closed: the worker stops
        allTried.tryComplete();
        return;
      }
      afterEach.run();
      loadFrom(index + 1, tf, afterEach, stopping);
    });
  }

  /** The region's order, or the configured one when it does not answer (normal without a region node). */
  private Future<LoadOrder> askOrder(Vertx vertx) {
    var ask = new WarmupOrder.Ask(workerId, worker.gpuClass(), worker.models());
    return vertx.eventBus().<JsonObject>request(Addresses.warmup(region), ask.toJson(),
            new DeliveryOptions().setSendTimeout(ASK_TIMEOUT_MS))
        .map(reply -> LoadOrder.from(worker.models(), WarmupOrder.Answer.fromJson(reply.body())))
        .map(got -> {
          answered.increment();
          LOG.info("worker {}: load order {} from region {} (reason {}, family {}{})", workerId, got.models(), region,
              got.reason(), got.family(), got.ignored().isEmpty() ? "" : ", ignored unknown " + got.ignored());
          return got;
        })
        .recover(e -> {
          unanswered.increment();
          LoadOrder configured = LoadOrder.configured(worker.models());
          LOG.info("worker {}: no load order from region {} ({}); loading in configured order {}", workerId, region,
              e.getMessage(), configured.models());
          return Future.succeededFuture(configured);
        });
  }

  /** On the TensorFlow thread: lists the devices; null if the configured one is there, else what is missing. */
  private String checkDevice() {
    try {
      devices = List.copyOf(deviceLister.devices());
    } catch (RuntimeException e) {
      devices = List.of();
      return "TensorFlow could not list its devices: " + e.getMessage();
    }
    LOG.info("worker {} ({}): TensorFlow lists {}", workerId, worker.gpuClass(),
        devices.stream().map(d -> d.name() + " (" + d.memoryBytes() / (1024 * 1024) + " MB)").toList());
    return DeviceCheck.problem(worker.gpuClass(), devices);
  }

  /** The order this worker loads its models in (the configured one until the region answered). */
  public LoadOrder order() {
    return order;
  }

  /** TensorFlow's devices; null until listed. */
  public List<DeviceLister.Device> devices() {
    return devices;
  }

  /** Completes once every model of the order was tried (loaded or failing); failed if the start failed. */
  public Future<Void> allTried() {
    return allTried.future();
  }
}
