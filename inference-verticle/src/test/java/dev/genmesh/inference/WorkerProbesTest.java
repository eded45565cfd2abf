package dev.genmesh.inference;

import static dev.genmesh.inference.RegionDouble.REGION;
import static dev.genmesh.inference.RegionDouble.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.inference.registry.ModelSource;
import dev.genmesh.protocol.WorkerMessages;
import dev.genmesh.testkit.ManualClock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.tensorflow.exceptions.TensorFlowException;

/**
 * A worker's {@code /health/live}, {@code /health/ready} and {@code /metrics} over real HTTP, with
 * the real TF runtime behind them: warming up, ready, the region's queue not answering, persistent
 * device errors, and a GPU worker whose device list has no GPU.
 */
@ExtendWith(StoresExtension.class)
class WorkerProbesTest {
  private static final Duration WAIT = Duration.ofSeconds(90);
  private static final DeviceLister.Device CPU =
      new DeviceLister.Device("/job:localhost/replica:0/task:0/device:CPU:0", "CPU", 256L << 20);
  private static final DeviceLister.Device L4 =
      new DeviceLister.Device("/job:localhost/replica:0/task:0/device:GPU:0", "GPU", 22_000L << 20);

  private Vertx vertx;
  private RegionDouble region;
  private final ManualClock clock = new ManualClock();
  private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  @BeforeEach
  void playTheRegion(TestStores stores) {
    vertx = Vertx.vertx();
    region = new RegionDouble(vertx, stores);
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @Test
  void liveButNotReadyWhileWarmingUpThenReadyAndNotReadyWhileTheQueueDoesNotAnswer() throws Exception {
    GenmeshConfig config = config(Map.of());
    GatedSource source = new GatedSource(ModelSource.local(config.models(), TestModels.root()));
    var worker = new InferenceVerticle(config, REGION, "w-probes", meters, source, WorkerOptions.defaults().withClock(clock));
    int port = startHttp(worker);
    Future<String> started = vertx.deployVerticle(worker);

    assertThat(source.resolving.await(60, TimeUnit.SECONDS)).as("the worker starts loading").isTrue();
    Probe.Answer live = Probe.get(port, "/health/live");
    assertThat(live.status()).as(live.body()).isEqualTo(200);
    assertThat(live.checks()).containsOnly(Map.entry("event_loop", "UP"), Map.entry("device", "UP"),
        Map.entry("memory", "UP"), Map.entry("device_errors", "UP"), Map.entry("progress", "UP"));
    assertThat(live.data("device").getJsonArray("devices").getList()).as("TensorFlow's real device list")
        .anySatisfy(d -> assertThat((String) d).endsWith("device:CPU:0"));
    Probe.Answer warming = Probe.get(port, "/health/ready");
    assertThat(warming.status()).as(warming.body()).isEqualTo(503);
    assertThat(warming.checks()).containsEntry("models", "DOWN");
    assertThat(warming.data("models").getString("error")).isEqualTo("no model loaded yet");

    source.gate.countDown();
    started.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    await("ready", WAIT, () -> Probe.get(port, "/health/ready").status() == 200);
    Probe.Answer ready = Probe.get(port, "/health/ready");
    assertThat(ready.checks()).containsOnly(Map.entry("models", "UP"), Map.entry("memory", "UP"), Map.entry("queue", "UP"));
    assertThat(ready.data("models").getJsonArray("loaded").getList()).containsExactly("genmesh-tiny");
    assertThat(ready.data("memory").getLong("free_mb")).isGreaterThanOrEqualTo(ready.data("memory").getLong("smallest_need_mb"))
        .isLessThan(8192);
    await("a heartbeat with the HTTP port", WAIT, () -> region.lastHeartbeat("w-probes").httpPort() == port);

    region.queue(new WorkerMessages.Assignment("usw_probe", 1, 30_000, InferenceVerticleTest.spec("a bay", 1L, 2)));
    await("the result", WAIT, () -> region.results.containsKey("usw_probe"));
    Probe.Answer metrics = Probe.get(port, "/metrics");
    assertThat(metrics.status()).isEqualTo(200);
    assertThat(metrics.body()).contains("genmesh_worker_step_time_seconds_count{region=\"us-west\",worker=\"w-probes\"} 2");

    // The region's queue fails every claim (a failure is not an answer), and time passes.
    region.failClaims = true;
    clock.advance(Duration.ofMinutes(1));
    await("not ready while the queue does not answer", WAIT, () -> Probe.get(port, "/health/ready").status() == 503);
    Probe.Answer cutOff = Probe.get(port, "/health/ready");
    assertThat(cutOff.checks()).containsEntry("models", "UP").containsEntry("queue", "DOWN");
    assertThat(cutOff.data("queue").getLong("last_answer_ms_ago")).isGreaterThanOrEqualTo(60_000);
    assertThat(Probe.get(port, "/health/live").status()).as("still live").isEqualTo(200);

    region.failClaims = false;
    await("ready again once the queue answers", WAIT, () -> Probe.get(port, "/health/ready").status() == 200);
    assertThat(Probe.get(port, "/nothing").status()).isEqualTo(404);
  }

  @Test
  void persistentDeviceErrorsMakeLivenessFail() throws Exception {
    InducedFaults faults = new InducedFaults();
    var worker = new InferenceVerticle(config(Map.of()), REGION, "w-dying", meters,
        ModelSource.local(config(Map.of()).models(), TestModels.root()), WorkerOptions.defaults().withFaultHook(faults));
    int port = startHttp(worker);
    deploy(worker);
    await("ready", WAIT, () -> Probe.get(port, "/health/ready").status() == 200);

    faults.always(() -> new TensorFlowException("CUDA error: unspecified launch failure"));
    region.queue(new WorkerMessages.Assignment("usw_dies", 1, 30_000, InferenceVerticleTest.spec("a storm", 3L, 4)));
    await("live=false in a heartbeat", WAIT, () -> {
      WorkerMessages.Heartbeat last = region.lastHeartbeat("w-dying");
      return last != null && !last.live();
    });

    Probe.Answer live = Probe.get(port, "/health/live");
    assertThat(live.status()).as(live.body()).isEqualTo(503);
    assertThat(live.checks()).containsEntry("device_errors", "DOWN").containsEntry("event_loop", "UP")
        .containsEntry("device", "UP");
    assertThat(live.data("device_errors").getString("error")).contains("3 device errors in a row");
    Probe.Answer ready = Probe.get(port, "/health/ready");
    assertThat(ready.status()).isEqualTo(503);
    assertThat(ready.checks()).containsEntry("models", "DOWN");
  }

  @Test
  void aGpuWorkerIsLiveOnlyWhenTensorFlowListsAGpu() throws Exception {
    GenmeshConfig l4 = config(Map.of("GENMESH_WORKER__GPU_CLASS", "L4", "GENMESH_WORKER__VRAM_MB", "24576"));
    var cpuOnly = new InferenceVerticle(l4, REGION, "w-no-gpu", meters, ModelSource.local(l4.models(), TestModels.root()),
        WorkerOptions.defaults().withDeviceLister(() -> List.of(CPU)));
    int port = startHttp(cpuOnly);
    deploy(cpuOnly);

    Probe.Answer live = Probe.get(port, "/health/live");
    assertThat(live.status()).as(live.body()).isEqualTo(503);
    assertThat(live.checks()).containsEntry("device", "DOWN").containsEntry("memory", "DOWN");
    assertThat(live.data("device").getString("error")).contains("needs a GPU").contains("device:CPU:0");
    assertThat(Probe.get(port, "/health/ready").status()).isEqualTo(503);
    assertThat(cpuOnly.live()).isFalse();
    await("live=false in heartbeats", WAIT, () -> region.heartbeatsOf("w-no-gpu").size() >= 3);
    assertThat(region.lastHeartbeat("w-no-gpu").live()).isFalse();
    assertThat(region.lastHeartbeat("w-no-gpu").loadedModels()).as("no model loaded on the wrong device").isEmpty();
    assertThat(region.claims).as("it claims nothing").isEmpty();

    var withGpu = new InferenceVerticle(l4, REGION, "w-gpu", meters, ModelSource.local(l4.models(), TestModels.root()),
        WorkerOptions.defaults().withDeviceLister(() -> List.of(CPU, L4)));
    int gpuPort = startHttp(withGpu);
    deploy(withGpu);
    Probe.Answer gpuLive = Probe.get(gpuPort, "/health/live");
    assertThat(gpuLive.status()).as(gpuLive.body()).isEqualTo(200);
    assertThat(gpuLive.data("memory").getLong("device_memory_mb")).isEqualTo(22_000);
  }

  private GenmeshConfig config(Map<String, String> extra) {
    Map<String, String> env = new HashMap<>(Map.of(
        "GENMESH_WORKER__CLAIM_POLL_MS", "50",
        "GENMESH_WORKER__HEARTBEAT_INTERVAL_MS", "200",
        "GENMESH_WORKER__MODELS", "[genmesh-tiny]"));
    env.putAll(extra);
    env.putAll(region.imagesEnv());
    return ConfigLoader.load(null, env);
  }

  private int startHttp(InferenceVerticle worker) throws Exception {
    WorkerHttp http = new WorkerHttp(worker, meters, "127.0.0.1", 0);
    vertx.deployVerticle(http).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return http.actualPort();
  }

  private void deploy(InferenceVerticle worker) throws Exception {
    vertx.deployVerticle(worker).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
  }

  /** The local models, but each resolve waits until the test opens the gate: the worker stays warming up. */
  private static final class GatedSource implements ModelSource {
    final CountDownLatch resolving = new CountDownLatch(1);
    final CountDownLatch gate = new CountDownLatch(1);
    private final ModelSource delegate;

    GatedSource(ModelSource delegate) {
      this.delegate = delegate;
    }

    @Override
    public Resolved resolve(String name) {
      resolving.countDown();
      try {
        if (!gate.await(120, TimeUnit.SECONDS)) {
          throw new IllegalStateException("the test never opened the gate");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      return delegate.resolve(name);
    }
  }
}
