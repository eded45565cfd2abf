package dev.genmesh.inference;

import static dev.genmesh.inference.RegionDouble.REGION;
import static dev.genmesh.inference.RegionDouble.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.inference.pipeline.DiffusionPipeline;
import dev.genmesh.inference.pipeline.LoadedModel;
import dev.genmesh.inference.pipeline.ModelStore;
import dev.genmesh.inference.pipeline.StepListener;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.tensorflow.exceptions.TFResourceExhaustedException;
import org.tensorflow.exceptions.TensorFlowException;

/**
 * OOM and device errors on the real TF runtime, induced through the worker's fault hook with the
 * exceptions TensorFlow Java throws for them (there is no GPU here to fail for real).
 */
@ExtendWith(StoresExtension.class)
class WorkerFaultsTest {
  private static final Duration WAIT = Duration.ofSeconds(90);

  private Vertx vertx;
  private RegionDouble region;
  private final MeterRegistry meters = new SimpleMeterRegistry();

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
  void anOomIsTypedLowersTheBatchLimitDropsAdaptersAndTheRetrySucceedsOnABiggerWorker() throws Exception {
    InducedFaults faults = new InducedFaults();
    InferenceVerticle small = deploy("w-small", 4096, faults);
    GenerationSpec spec = new GenerationSpec("a harbour", "", "genmesh-tiny", Tier.FAST, 256, 256, 4, 9L, 7.5, 2,
        "watercolor", 1.0, null, 1.0, 0);
    faults.once(2, () -> new TFResourceExhaustedException(
        "OOM when allocating tensor with shape[4,32,32,32] and type float on /job:localhost/replica:0/task:0/device:GPU:0"));
    region.queue(new WorkerMessages.Assignment("usw_oom", 1, 30_000, spec));

    await("the failure", WAIT, () -> region.failures.containsKey("usw_oom"));
    assertThat(region.failures.get("usw_oom").failureType()).isEqualTo("oom");
    assertThat(region.stepsOf("usw_oom")).extracting(WorkerMessages.Step::step).containsExactly(1);
    await("a heartbeat with the lower limit", WAIT, () -> region.lastHeartbeat("w-small").maxBatchImages() == 1);
    assertThat(small.loadedAdapters()).as("adapters dropped from memory").isEmpty();
    assertThat(small.live()).isTrue();

    // The region's retry: batch_size 1, only on a worker with more free memory than the claim that failed.
    long failedWith = region.claims.stream().filter(c -> c.workerId().equals("w-small")).findFirst().orElseThrow().freeVramMb();
    assertThat(region.claims).filteredOn(c -> c.workerId().equals("w-small"))
        .allSatisfy(c -> assertThat(c.freeVramMb()).as("an idle worker's free memory is steady").isEqualTo(failedWith));
    GenerationSpec retry = new GenerationSpec("a harbour", "", "genmesh-tiny", Tier.FAST, 256, 256, 4, 9L, 7.5, 1,
        "watercolor", 1.0, null, 1.0, 0);
    region.queue(new WorkerMessages.Assignment("usw_oom", 2, 30_000, retry), claim -> claim.freeVramMb() > failedWith);
    deploy("w-big", 16_384, new InducedFaults());

    await("the retried result", WAIT, () -> region.results.containsKey("usw_oom"));
    WorkerMessages.Result result = region.results.get("usw_oom");
    assertThat(result.workerId()).isEqualTo("w-big");
    assertThat(result.attempt()).isEqualTo(2);
    try (LoadedModel model = ModelStore.load(TestModels.tiny(), 1, 1)) {
      byte[] single = DiffusionPipeline.generate(model, InferenceVerticleTest.input(retry).withAdapter("watercolor", 1.0),
          StepListener.NONE, () -> false).get(0);
      assertThat(region.pngs("usw_oom")).containsExactly(single);
    }
  }

  @Test
  void aRequestBeyondTheMemoryBudgetFailsAsOomWithoutRunning() {
    InducedFaults faults = new InducedFaults();
    deploy("w-tight", 160, faults);
    int warmUpCalls = faults.calls.size();
    GenerationSpec huge = new GenerationSpec("a panorama", "", "genmesh-tiny", Tier.FAST, 1024, 1024, 4, 1L, 7.5, 2);
    region.queue(new WorkerMessages.Assignment("usw_huge", 1, 30_000, huge));

    await("the failure", WAIT, () -> region.failures.containsKey("usw_huge"));
    WorkerMessages.Failure failure = region.failures.get("usw_huge");
    assertThat(failure.failureType()).isEqualTo("oom");
    assertThat(failure.message()).contains("budget is 160 MB").contains("1024x1024");
    assertThat(region.stepsOf("usw_huge")).isEmpty();
    assertThat(faults.calls).hasSize(warmUpCalls); // TensorFlow never saw it

    region.queue(new WorkerMessages.Assignment("usw_fits", 1, 30_000, InferenceVerticleTest.spec("a cat", 2L, 2)));
    await("the next request's result", WAIT, () -> region.results.containsKey("usw_fits"));
  }

  @Test
  void aDeviceErrorRestartsTheSessionAndTheNextRequestSucceeds() {
    InducedFaults faults = new InducedFaults();
    InferenceVerticle worker = deploy("w-gpu", 8192, faults);
    faults.once(2, () -> new TensorFlowException("CUDA error: an illegal memory access was encountered"));
    region.queue(new WorkerMessages.Assignment("usw_dev", 1, 30_000, InferenceVerticleTest.spec("a storm", 3L, 4)));

    await("the failure", WAIT, () -> region.failures.containsKey("usw_dev"));
    assertThat(region.failures.get("usw_dev").failureType()).isEqualTo("gpu_error");
    await("the restart", WAIT, () -> restarts("w-gpu") == 1.0 && worker.ready());

    region.queue(new WorkerMessages.Assignment("usw_after", 1, 30_000, InferenceVerticleTest.spec("a calm sea", 4L, 3)));
    await("the next result", WAIT, () -> region.results.containsKey("usw_after"));
    assertThat(worker.live()).isTrue();
    var beats = region.heartbeatsOf("w-gpu");
    int firstReady = beats.indexOf(beats.stream().filter(WorkerMessages.Heartbeat::ready).findFirst().orElseThrow());
    assertThat(beats.subList(firstReady, beats.size())).as("not ready while restarting")
        .anyMatch(h -> !h.ready());
    assertThat(beats.get(beats.size() - 1).ready()).as("ready again after").isTrue();
  }

  @Test
  void persistentDeviceErrorsMakeTheWorkerNotLiveAndItStopsClaiming() {
    InducedFaults faults = new InducedFaults();
    InferenceVerticle worker = deploy("w-dying", 8192, faults);
    faults.always(() -> new TensorFlowException("CUDA error: unspecified launch failure"));
    region.queue(new WorkerMessages.Assignment("usw_first", 1, 30_000, InferenceVerticleTest.spec("a storm", 3L, 4)));

    await("live=false in a heartbeat", WAIT, () -> {
      WorkerMessages.Heartbeat last = region.lastHeartbeat("w-dying");
      return last != null && !last.live();
    });
    assertThat(region.failures.get("usw_first").failureType()).isEqualTo("gpu_error");
    assertThat(restarts("w-dying")).as("two restarts whose warm-ups failed: three errors in a row").isEqualTo(2.0);
    assertThat(worker.live()).isFalse();

    int claimsBefore = region.claims.size();
    region.queue(new WorkerMessages.Assignment("usw_second", 1, 30_000, InferenceVerticleTest.spec("a calm sea", 4L, 3)));
    vertx.eventBus().publish(Addresses.workAvailable(REGION), "fast");
    int beats = region.heartbeatsOf("w-dying").size();
    await("three more heartbeats", WAIT, () -> region.heartbeatsOf("w-dying").size() >= beats + 3);
    assertThat(region.claims).hasSize(claimsBefore);
    assertThat(region.work).hasSize(1);
    assertThat(region.lastHeartbeat("w-dying").live()).isFalse();
  }

  private double restarts(String workerId) {
    var counter = meters.find("genmesh.worker.session.restarts").tag("worker", workerId).counter();
    return counter == null ? 0 : counter.count();
  }

  private InferenceVerticle deploy(String workerId, long vramMb, InducedFaults faults) {
    Map<String, String> env = new HashMap<>(Map.of(
        "GENMESH_WORKER__CLAIM_POLL_MS", "50",
        "GENMESH_WORKER__HEARTBEAT_INTERVAL_MS", "200",
        "GENMESH_WORKER__MODELS", "[genmesh-tiny]",
        "GENMESH_WORKER__VRAM_MB", String.valueOf(vramMb)));
    env.putAll(region.imagesEnv());
    var worker = new InferenceVerticle(ConfigLoader.load(null, env), REGION, workerId, meters, TestModels.root(), faults);
    try {
      vertx.deployVerticle(worker).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("worker did not start", e);
    }
    return worker;
  }
}
