package dev.genmesh.inference;

import static dev.genmesh.inference.RegionDouble.REGION;
import static dev.genmesh.inference.RegionDouble.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.inference.registry.ModelSource;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages;
import dev.genmesh.testkit.ManualClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model whose loads keep failing (its files fail their checksum every time it is fetched) on
 * the real TF runtime: the worker serves its other model, keeps claiming the broken one, tries
 * it again for a request once the backoff has passed, and fails such requests as
 * {@code model_load_failed}.
 */
@ExtendWith(StoresExtension.class)
class ModelLoadFailureTest {
  private static final Duration WAIT = Duration.ofSeconds(90);
  private static final String BROKEN = "genmesh-small";

  @TempDir Path tmp;
  private Vertx vertx;
  private RegionDouble region;
  private final ManualClock clock = new ManualClock();
  private Path corrupted;

  @BeforeEach
  void playTheRegion(TestStores stores) throws IOException {
    vertx = Vertx.vertx();
    region = new RegionDouble(vertx, stores);
    corrupted = copy(TestModels.small(), tmp.resolve("small-corrupted"));
    Path data = corrupted.resolve("variables").resolve("variables.data-00000-of-00001");
    byte[] bytes = Files.readAllBytes(data);
    bytes[bytes.length / 2] ^= 0x5a;
    Files.write(data, bytes);
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @Test
  void theWorkerServesItsOtherModelRetriesTheBrokenOneOnDemandAndTypesTheFailure() throws Exception {
    GenmeshConfig config = config("[genmesh-tiny, genmesh-small]");
    BrokenSource source = new BrokenSource(ModelSource.local(config.models(), TestModels.root()));
    var worker = new InferenceVerticle(config, REGION, "w-half", new SimpleMeterRegistry(), source,
        WorkerOptions.defaults().withClock(clock));
    WorkerHttp http = new WorkerHttp(worker, new SimpleMeterRegistry(), "127.0.0.1", 0);
    vertx.deployVerticle(http).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    vertx.deployVerticle(worker).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    assertThat(worker.ready()).as("ready once the first model is warm").isTrue();
    worker.warmUpFinished().toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);

    assertThat(worker.loadedVersions()).containsOnlyKeys("genmesh-tiny");
    assertThat(worker.failedModels()).containsExactly(BROKEN);
    assertThat(source.brokenResolves.get()).isEqualTo(1);
    await("ready over HTTP", WAIT, () -> Probe.get(http.actualPort(), "/health/ready").status() == 200);
    Probe.Answer ready = Probe.get(http.actualPort(), "/health/ready");
    assertThat(ready.data("models").getJsonArray("loaded").getList()).containsExactly("genmesh-tiny");
    assertThat(ready.data("models").getJsonObject("failed").getString(BROKEN)).contains("SHA-256");
    await("a heartbeat listing the failed model", WAIT, () -> {
      WorkerMessages.Heartbeat beat = region.lastHeartbeat("w-half");
      return beat != null && beat.ready() && beat.failedModels().contains(BROKEN);
    });
    WorkerMessages.Heartbeat beat = region.lastHeartbeat("w-half");
    assertThat(beat.loadedModels()).containsExactly("genmesh-tiny");
    assertThat(beat.failedModels()).containsExactly(BROKEN);
    region.claims.clear();
    await("a claim after the warm-up", WAIT, () -> !region.claims.isEmpty());
    assertThat(region.claims).as("it still claims the broken model")
        .allSatisfy(c -> assertThat(c.models()).containsExactly("genmesh-tiny", BROKEN));

    // Within the backoff: failed at once, no new attempt.
    region.queue(new WorkerMessages.Assignment("usw_b1", 1, 30_000, small("a fjord", 1L)));
    await("the first failure", WAIT, () -> region.failures.containsKey("usw_b1"));
    assertThat(region.failures.get("usw_b1").failureType()).isEqualTo("model_load_failed");
    assertThat(region.failures.get("usw_b1").message()).contains("next attempt not before");
    assertThat(source.brokenResolves.get()).isEqualTo(1);

    // Past the backoff: fetched and checked again, still corrupted.
    clock.advance(Duration.ofSeconds(3));
    region.queue(new WorkerMessages.Assignment("usw_b2", 1, 30_000, small("a fjord", 2L)));
    await("the second failure", WAIT, () -> region.failures.containsKey("usw_b2"));
    assertThat(region.failures.get("usw_b2").failureType()).isEqualTo("model_load_failed");
    assertThat(region.failures.get("usw_b2").message()).contains("SHA-256");
    assertThat(source.brokenResolves.get()).isEqualTo(2);
    assertThat(region.stepsOf("usw_b2")).isEmpty();

    // The other model serves all along.
    region.queue(new WorkerMessages.Assignment("usw_t1", 1, 30_000, InferenceVerticleTest.spec("a lake", 3L, 2)));
    await("the other model's result", WAIT, () -> region.results.containsKey("usw_t1"));

    // Repaired, and the (now longer) backoff passed: the next request loads it and runs.
    source.repaired = true;
    clock.advance(Duration.ofSeconds(5));
    region.queue(new WorkerMessages.Assignment("usw_b3", 1, 30_000, small("a fjord", 3L)));
    await("the repaired model's result", WAIT, () -> region.results.containsKey("usw_b3"));
    assertThat(worker.loadedVersions()).containsOnlyKeys("genmesh-tiny", BROKEN);
    assertThat(worker.failedModels()).isEmpty();
    await("a heartbeat without failed models", WAIT, () -> {
      WorkerMessages.Heartbeat last = region.lastHeartbeat("w-half");
      return last.failedModels().isEmpty() && last.loadedModels().contains(BROKEN);
    });
  }

  @Test
  void aWorkerNoneOfWhoseModelsLoadDoesNotStart() {
    GenmeshConfig config = config("[genmesh-small]");
    var worker = new InferenceVerticle(config, REGION, "w-none", new SimpleMeterRegistry(),
        new BrokenSource(ModelSource.local(config.models(), TestModels.root())), WorkerOptions.defaults());
    assertThatThrownBy(() -> vertx.deployVerticle(worker).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS))
        .hasMessageContaining("could not load any of its models").hasMessageContaining(BROKEN);
  }

  private static GenerationSpec small(String prompt, long seed) {
    return new GenerationSpec(prompt, "", BROKEN, Tier.FAST, 256, 256, 2, seed, 5.0, 1);
  }

  private GenmeshConfig config(String models) {
    Map<String, String> env = new HashMap<>(Map.of(
        "GENMESH_WORKER__CLAIM_POLL_MS", "50",
        "GENMESH_WORKER__HEARTBEAT_INTERVAL_MS", "200",
        "GENMESH_WORKER__MODELS", models));
    env.putAll(region.imagesEnv());
    return ConfigLoader.load(null, env);
  }

  /** Like a registry whose bundle of the broken model fails its checksum on every pull, until repaired. */
  private final class BrokenSource implements ModelSource {
    final AtomicInteger brokenResolves = new AtomicInteger();
    volatile boolean repaired;
    private final ModelSource delegate;

    BrokenSource(ModelSource delegate) {
      this.delegate = delegate;
    }

    @Override
    public Resolved resolve(String name) {
      if (!name.equals(BROKEN) || repaired) {
        return delegate.resolve(name);
      }
      brokenResolves.incrementAndGet();
      return new Resolved(name, "1.0.0", corrupted);
    }
  }

  private static Path copy(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path source : files.toList()) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target);
        }
      }
    }
    return to;
  }
}
