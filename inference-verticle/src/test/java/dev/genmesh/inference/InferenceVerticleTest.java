package dev.genmesh.inference;

import static dev.genmesh.inference.RegionDouble.REGION;
import static dev.genmesh.inference.RegionDouble.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.inference.registry.ModelSource;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.inference.pipeline.DiffusionPipeline;
import dev.genmesh.inference.pipeline.GenerationInput;
import dev.genmesh.inference.pipeline.LoadedModel;
import dev.genmesh.inference.pipeline.ModelStore;
import dev.genmesh.inference.pipeline.StepListener;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The worker against the region's side of the event-bus contract, played by {@link RegionDouble}. */
@ExtendWith(StoresExtension.class)
class InferenceVerticleTest {
  private static final Duration WAIT = Duration.ofSeconds(90);

  private Vertx vertx;
  private RegionDouble region;

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
  void reportsReadyOnlyAfterWarmUpThenClaimsRunsReportsEveryStepAndHandsInThePng() throws Exception {
    region.queue(new WorkerMessages.Assignment("usw_test1", 1, 30_000, spec("a quiet harbour", 5L, 3)));
    deploy("usw-test-worker", Map.of("GENMESH_WORKER__MODELS", "[genmesh-tiny, genmesh-small]"));

    await("the result", WAIT, () -> region.results.containsKey("usw_test1"));
    WorkerMessages.Result done = region.results.get("usw_test1");
    assertThat(done.attempt()).isEqualTo(1);
    assertThat(done.workerId()).isEqualTo("usw-test-worker");
    assertThat(region.pngs("usw_test1")).hasSize(1);
    assertThat(ImageIO.read(new ByteArrayInputStream(region.pngs("usw_test1").get(0))).getWidth()).isEqualTo(256);
    assertThat(region.stepsOf("usw_test1")).extracting(WorkerMessages.Step::step).containsExactly(1, 2, 3);
    assertThat(region.stepsOf("usw_test1")).allSatisfy(s -> {
      assertThat(s.total()).isEqualTo(3);
      assertThat(s.preview()).isNull();
    });

    List<WorkerMessages.Heartbeat> beats = region.heartbeatsOf("usw-test-worker");
    assertThat(beats.get(0).ready()).as("the first heartbeat, before the models are loaded").isFalse();
    assertThat(beats.get(0).loadedModels()).isEmpty();
    WorkerMessages.Heartbeat firstReady = beats.stream().filter(WorkerMessages.Heartbeat::ready).findFirst().orElseThrow();
    assertThat(firstReady.loadedModels()).as("ready once the first model of the order is warm").startsWith("genmesh-tiny");
    await("a heartbeat with both models", WAIT, () -> region.lastHeartbeat("usw-test-worker").loadedModels().size() == 2);
    WorkerMessages.Heartbeat ready = region.lastHeartbeat("usw-test-worker");
    assertThat(ready.loadedModels()).containsExactly("genmesh-tiny", "genmesh-small");
    assertThat(ready.modelVersions()).containsEntry("genmesh-tiny", "1.1.0").containsEntry("genmesh-small", "1.0.0");
    assertThat(ready.gpuClass()).isEqualTo("cpu");
    assertThat(ready.live()).isTrue();
    assertThat(ready.maxBatchImages()).isEqualTo(4);
    assertThat(ready.vramTotalMb()).isEqualTo(8192);
    assertThat(ready.vramFreeMb()).isPositive().isLessThan(8192);
    assertThat(region.claims).as("only warm (or failing) models are claimed").allSatisfy(c -> assertThat(c.models())
        .isIn(List.of("genmesh-tiny"), List.of("genmesh-tiny", "genmesh-small")));
    await("a claim for both models", WAIT,
        () -> region.claims.stream().anyMatch(c -> c.models().equals(List.of("genmesh-tiny", "genmesh-small"))));
  }

  /** A region that holds claims: the idle worker's claim waits there, gets the work when it comes, and acknowledges it. */
  @Test
  void aClaimThatWaitsInTheRegionGetsWorkWhenItComesAndAcknowledgesIt() {
    region.holdClaims = true;
    deploy("usw-test-worker", Map.of());
    await("a claim waiting in the region", WAIT, () -> !region.held.isEmpty());
    WorkerMessages.Claim waiting = WorkerMessages.Claim.fromJson(region.held.peek().body());
    assertThat(waiting.waitMs()).as("half the 5 s in which the region must answer").isEqualTo(2500L);

    region.queue(new WorkerMessages.Assignment("usw_wait1", 1, 30_000, spec("a quiet harbour", 5L, 3)));
    await("the result", WAIT, () -> region.results.containsKey("usw_wait1"));
    assertThat(region.acks.get("usw_wait1")).isEqualTo(new JsonObject().put("worker_id", "usw-test-worker"));
    assertThat(region.claims).filteredOn(c -> c.batchWith() != null).as("a batch's claims never wait")
        .allSatisfy(c -> assertThat(c.waitMs()).isZero());
    await("the next claim waiting", WAIT, () -> !region.held.isEmpty());
  }

  /**
   * A worker cut off from its region (dropped from the cluster after a freeze, every region node
   * gone) could hand in nothing it ran: it claims nothing until a region node is in its view again,
   * says so once in its log and counts it.
   */
  @Test
  void aWorkerWithNoRegionNodeInViewClaimsNothingUntilOneIsBack() {
    AtomicBoolean inView = new AtomicBoolean(false);
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    region.queue(new WorkerMessages.Assignment("usw_view1", 1, 30_000, spec("a quiet harbour", 5L, 3)));
    deploy("usw-test-worker", Map.of(), WorkerOptions.defaults().withRegionInView(inView::get), meters);
    await("a ready heartbeat", WAIT, () -> region.heartbeatsOf("usw-test-worker").stream().anyMatch(WorkerMessages.Heartbeat::ready));
    int readyAt = region.heartbeatsOf("usw-test-worker").size();
    // Five heartbeats (200 ms apart) span twenty claim polls (50 ms).
    await("five more heartbeats", WAIT, () -> region.heartbeatsOf("usw-test-worker").size() >= readyAt + 5);
    assertThat(region.claims).as("claims while no region node is in view").isEmpty();
    assertThat(meters.get("genmesh.worker.region_out_of_view").counter().count()).isEqualTo(1.0);

    inView.set(true);
    await("the result", WAIT, () -> region.results.containsKey("usw_view1"));
    assertThat(meters.get("genmesh.worker.region_out_of_view").counter().count()).isEqualTo(1.0);
  }

  @Test
  void cancellationStopsAtTheNextStepAndIsReportedAsSuch() {
    region.onStep = step -> {
      if (step.step() == 2) {
        vertx.eventBus().publish(Addresses.cancel(REGION), new JsonObject().put("request_id", "usw_test2"));
      }
    };
    region.queue(new WorkerMessages.Assignment("usw_test2", 1, 30_000, spec("a quiet harbour", 5L, 40)));
    deploy("usw-test-worker", Map.of());

    await("the cancellation", WAIT, () -> region.failures.containsKey("usw_test2"));
    assertThat(region.failures.get("usw_test2").failureType()).isEqualTo("cancelled");
    assertThat(region.stepsOf("usw_test2").size()).isGreaterThanOrEqualTo(2).isLessThan(40);
    assertThat(region.results).doesNotContainKey("usw_test2");
  }

  @Test
  void compatibleRequestsRunAsOneBatchAndEachGetsExactlyItsSingleImage() throws Exception {
    List<GenerationSpec> specs = List.of(spec("a red fox", 11L, 4), spec("an owl at night", 40L, 4),
        new GenerationSpec("two boats", "fog", "genmesh-tiny", Tier.FAST, 256, 256, 4, 77L, 7.5, 2));
    for (int i = 0; i < specs.size(); i++) {
      region.queue(new WorkerMessages.Assignment("usw_b" + i, 1, 30_000, specs.get(i)));
    }
    GenerationSpec otherSize = new GenerationSpec("a tall tower", "", "genmesh-tiny", Tier.FAST, 256, 320, 4, 5L, 7.5, 1);
    region.queue(new WorkerMessages.Assignment("usw_other", 1, 30_000, otherSize));
    deploy("usw-test-worker", Map.of());

    await("all results", WAIT, () -> region.results.keySet().containsAll(List.of("usw_b0", "usw_b1", "usw_b2", "usw_other")));
    // One batch: the worker asked for more with a batch_with hint, and every request's step 1
    // was reported before any request's step 2.
    assertThat(region.claims).anySatisfy(c -> {
      assertThat(c.batchWith()).isNotNull();
      assertThat(c.batchWith().steps()).isEqualTo(4);
    });
    List<String> order = region.steps.stream().filter(s -> s.requestId().startsWith("usw_b"))
        .map(s -> s.requestId() + ":" + s.step()).toList();
    assertThat(order.subList(0, 3)).containsExactlyInAnyOrder("usw_b0:1", "usw_b1:1", "usw_b2:1");
    try (LoadedModel model = ModelStore.load(TestModels.tiny(), 1, 1)) {
      for (int i = 0; i < specs.size(); i++) {
        List<byte[]> single = DiffusionPipeline.generate(model, input(specs.get(i)), StepListener.NONE, () -> false);
        List<byte[]> batched = region.pngs("usw_b" + i);
        assertThat(batched).hasSameSizeAs(single);
        for (int j = 0; j < single.size(); j++) {
          assertThat(batched.get(j)).as("request %d image %d", i, j).isEqualTo(single.get(j));
        }
      }
    }
  }

  @Test
  void aRegionThatIgnoresTheHintStillGetsEveryRequestRunOnce() {
    region.honourBatchHints = false;
    region.queue(new WorkerMessages.Assignment("usw_a", 1, 30_000, spec("a red fox", 1L, 3)));
    region.queue(new WorkerMessages.Assignment("usw_b", 1, 30_000,
        new GenerationSpec("a tall tower", "", "genmesh-tiny", Tier.FAST, 256, 320, 3, 5L, 7.5, 1)));
    region.queue(new WorkerMessages.Assignment("usw_c", 1, 30_000, spec("an owl", 2L, 3)));
    deploy("usw-test-worker", Map.of());

    await("all results", WAIT, () -> region.results.keySet().containsAll(List.of("usw_a", "usw_b", "usw_c")));
    for (String id : List.of("usw_a", "usw_b", "usw_c")) {
      assertThat(region.stepsOf(id)).extracting(WorkerMessages.Step::step).containsExactly(1, 2, 3);
    }
    assertThat(region.failures).isEmpty();
  }

  @Test
  void previewsAreSentWithEveryKthStepWhenAsked() throws Exception {
    GenerationSpec withPreviews = new GenerationSpec("a lighthouse", "", "genmesh-tiny", Tier.FAST, 256, 256, 5, 3L, 7.5, 1,
        null, 1.0, null, 1.0, 2);
    region.queue(new WorkerMessages.Assignment("usw_p", 1, 30_000, withPreviews));
    deploy("usw-test-worker", Map.of());

    await("the result", WAIT, () -> region.results.containsKey("usw_p"));
    List<WorkerMessages.Step> steps = region.stepsOf("usw_p");
    assertThat(steps).filteredOn(s -> s.preview() != null).extracting(WorkerMessages.Step::step).containsExactly(2, 4);
    byte[] preview = java.util.Base64.getDecoder().decode(steps.get(1).preview());
    assertThat(ImageIO.read(new ByteArrayInputStream(preview)).getWidth()).isEqualTo(64);
  }

  @Test
  void aControlImageIsDecodedAsClaimedAndOneThatIsNotBase64IsRefusedUnrun() throws Exception {
    BufferedImage edges = new BufferedImage(256, 256, BufferedImage.TYPE_BYTE_GRAY);
    edges.getRaster().setSample(128, 128, 0, 255);
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ImageIO.write(edges, "png", png);
    String base64 = Base64.getEncoder().encodeToString(png.toByteArray());
    region.queue(new WorkerMessages.Assignment("usw_ctl", 1, 30_000, withControl(base64)));
    region.queue(new WorkerMessages.Assignment("usw_bad", 1, 30_000, withControl("%%% not base64")));
    deploy("usw-test-worker", Map.of());

    await("the result and the refusal", WAIT, () -> region.results.containsKey("usw_ctl") && region.failures.containsKey("usw_bad"));
    assertThat(region.pngs("usw_ctl")).hasSize(1);
    assertThat(region.stepsOf("usw_ctl")).extracting(WorkerMessages.Step::step).containsExactly(1, 2, 3);
    assertThat(region.failures.get("usw_bad").failureType()).isEqualTo("error");
    assertThat(region.failures.get("usw_bad").message()).contains("control_image is not base64");
    assertThat(region.stepsOf("usw_bad")).as("refused before it ran").isEmpty();
  }

  private static GenerationSpec withControl(String controlImage) {
    return new GenerationSpec("a ring", "", "genmesh-tiny", Tier.FAST, 256, 256, 3, 9L, 7.5, 1, null, 1.0, controlImage, 1.0, 0);
  }

  private InferenceVerticle deploy(String workerId, Map<String, String> env) {
    return deploy(workerId, env, null, new SimpleMeterRegistry());
  }

  private InferenceVerticle deploy(String workerId, Map<String, String> env, WorkerOptions options, SimpleMeterRegistry meters) {
    Map<String, String> all = new HashMap<>(Map.of(
        "GENMESH_WORKER__CLAIM_POLL_MS", "50",
        "GENMESH_WORKER__HEARTBEAT_INTERVAL_MS", "200",
        "GENMESH_WORKER__MODELS", "[genmesh-tiny]"));
    all.putAll(region.imagesEnv());
    all.putAll(env);
    GenmeshConfig config = ConfigLoader.load(null, all);
    var worker = options == null ? new InferenceVerticle(config, REGION, workerId, meters, TestModels.root())
        : new InferenceVerticle(config, REGION, workerId, meters, ModelSource.local(config.models(), TestModels.root()), options);
    try {
      vertx.deployVerticle(worker).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("worker did not start", e);
    }
    return worker;
  }

  static GenerationSpec spec(String prompt, long seed, int steps) {
    return new GenerationSpec(prompt, "", "genmesh-tiny", Tier.FAST, 256, 256, steps, seed, 7.5, 1);
  }

  static GenerationInput input(GenerationSpec s) {
    return new GenerationInput(s.prompt(), s.negativePrompt(), s.width(), s.height(), s.steps(), s.seed(), s.guidance(),
        s.batchSize());
  }
}
