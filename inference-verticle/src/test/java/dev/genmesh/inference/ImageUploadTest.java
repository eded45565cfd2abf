package dev.genmesh.inference;

import static dev.genmesh.inference.RegionDouble.REGION;
import static dev.genmesh.inference.RegionDouble.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages;
import dev.genmesh.embedded.FaultProxy;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The worker's images on their way to the region's object store (inference-verticle/WORKER.md,
 * "Images"), with the store behind a proxy a test takes down: generation goes on while the store
 * does not answer, a full spool stops claims, and every image arrives once the store is back.
 */
@ExtendWith(StoresExtension.class)
class ImageUploadTest {
  private static final Duration WAIT = Duration.ofSeconds(120);

  private Vertx vertx;
  private RegionDouble region;
  private FaultProxy store;

  @BeforeEach
  void playTheRegion(TestStores stores) {
    vertx = Vertx.vertx();
    region = new RegionDouble(vertx, stores);
    store = FaultProxy.start("127.0.0.1", stores.objectStore().port());
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    store.close();
  }

  private static GenerationSpec spec(long seed, int side) {
    return new GenerationSpec("a quiet harbour", "", "genmesh-tiny", Tier.FAST, side, side, 2, seed, 7.5, 1);
  }

  @Test
  void generationGoesOnWhileTheStoreIsDownAndEveryImageArrivesWhenItIsBack() {
    store.down();
    InferenceVerticle worker = deploy("w-up", Map.of());
    List<String> ids = List.of("usw_u1", "usw_u2", "usw_u3");
    for (int i = 0; i < ids.size(); i++) {
      region.queue(new WorkerMessages.Assignment(ids.get(i), 1, 30_000, spec(i, 256)));
    }

    // The TensorFlow thread ran every request to its last step although no image could be stored...
    await("every request's last step", WAIT, () -> ids.stream().allMatch(id -> region.stepsOf(id).size() == 2));
    assertThat(region.results).isEmpty();
    assertThat(region.failures).isEmpty();
    await("the images spooled", WAIT, () -> worker.spooledBytes() > 0);
    // ...and the worker still holds them: its heartbeats renew their leases.
    await("a heartbeat listing all three", WAIT, () -> region.lastHeartbeat("w-up").activeRequests().containsAll(ids));

    store.up();
    await("every result", WAIT, () -> region.results.keySet().containsAll(ids));
    for (String id : ids) {
      assertThat(region.pngs(id)).hasSize(1);
    }
    assertThat(region.failures).isEmpty();
    await("the spool emptied", WAIT, () -> worker.spooledBytes() == 0);
    await("nothing held", WAIT, () -> region.lastHeartbeat("w-up").activeRequests().isEmpty());
  }

  @Test
  void aSlowStoreDoesNotHoldTheNextBatch() {
    store.delayMs(1_000); // every storage call waits a second before it reaches the store
    deploy("w-slow", Map.of("GENMESH_WORKER__MAX_BATCH_IMAGES", "1", "GENMESH_IMAGES__CALL_TIMEOUT_MS", "10000"));
    region.queue(new WorkerMessages.Assignment("usw_s1", 1, 30_000, spec(21, 256)));
    region.queue(new WorkerMessages.Assignment("usw_s2", 1, 30_000, spec(22, 256)));

    await("both results", WAIT, () -> region.results.keySet().containsAll(List.of("usw_s1", "usw_s2")));
    assertThat(region.timeline.indexOf("step usw_s2 1")).as("the second batch started while the first one's images"
        + " were still on their way: %s", region.timeline).isLessThan(region.timeline.indexOf("result usw_s1"));
    assertThat(region.pngs("usw_s1")).hasSize(1);
    assertThat(region.pngs("usw_s2")).hasSize(1);
  }

  @Test
  void aFullSpoolStopsClaimsUntilTheUploadsCatchUp() {
    store.down();
    InferenceVerticle worker = deploy("w-full", Map.of("GENMESH_IMAGES__SPOOL_MAX_BYTES", "1048576",
        "GENMESH_WORKER__MAX_BATCH_IMAGES", "1"));
    int queued = 12;
    for (int i = 0; i < queued; i++) {
      region.queue(new WorkerMessages.Assignment("usw_f" + i, 1, 30_000, spec(100 + i, 512)));
    }

    await("a full spool", WAIT, () -> worker.spooledBytes() >= 1_048_576);
    int claims = region.claims.size();
    int beats = region.heartbeatsOf("w-full").size();
    await("five more heartbeats", WAIT, () -> region.heartbeatsOf("w-full").size() >= beats + 5);
    assertThat(region.claims).as("no claim while the spool is full").hasSize(claims);
    assertThat(region.work).as("work left in the queue").isNotEmpty();

    store.up();
    await("every result", WAIT, () -> region.results.size() == queued);
    assertThat(region.failures).isEmpty();
  }

  @Test
  void anUploadThatCannotSucceedInTimeFailsTheAttemptAndReleasesIt() {
    store.down();
    InferenceVerticle worker = deploy("w-give-up", Map.of("GENMESH_IMAGES__UPLOAD_GIVE_UP_MS", "1500"));
    region.queue(new WorkerMessages.Assignment("usw_g", 1, 30_000, spec(7, 256)));

    await("the failure", WAIT, () -> region.failures.containsKey("usw_g"));
    assertThat(region.failures.get("usw_g").failureType()).isEqualTo("error");
    assertThat(region.failures.get("usw_g").message()).contains("images not stored");
    assertThat(region.results).isEmpty();
    await("the spool emptied", WAIT, () -> worker.spooledBytes() == 0);
    await("nothing held", WAIT, () -> region.lastHeartbeat("w-give-up").activeRequests().isEmpty());
  }

  @Test
  void theObjectsOfAResultTheRegionCallsStaleAreDeleted() {
    region.staleResults = true;
    deploy("w-stale", Map.of());
    region.queue(new WorkerMessages.Assignment("usw_s", 3, 30_000, spec(8, 256)));

    await("the stale answer", WAIT, () -> region.stale.containsKey("usw_s"));
    assertThat(region.stale.get("usw_s").images()).extracting(i -> i.key()).containsExactly("usw_s/3/0.png");
    await("its objects deleted", WAIT, () -> region.storedKeys("usw_s/").isEmpty());
  }

  private InferenceVerticle deploy(String workerId, Map<String, String> extra) {
    Map<String, String> env = new HashMap<>(Map.of(
        "GENMESH_WORKER__CLAIM_POLL_MS", "50",
        "GENMESH_WORKER__HEARTBEAT_INTERVAL_MS", "200",
        "GENMESH_WORKER__MODELS", "[genmesh-tiny]"));
    env.putAll(region.imagesEnv());
    env.put("GENMESH_IMAGES__ENDPOINT", store.url());
    env.put("GENMESH_IMAGES__CALL_TIMEOUT_MS", "1000");
    env.putAll(extra);
    var worker = new InferenceVerticle(ConfigLoader.load(null, env), REGION, workerId, new SimpleMeterRegistry(),
        TestModels.root());
    try {
      vertx.deployVerticle(worker).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("worker did not start", e);
    }
    return worker;
  }
}
