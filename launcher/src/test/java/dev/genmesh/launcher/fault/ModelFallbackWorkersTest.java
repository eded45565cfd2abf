package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.inference.InferenceVerticle;
import dev.genmesh.inference.pipeline.FaultHook;
import dev.genmesh.launcher.impl.ReferenceSafety;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.region.RegionNodeVerticle;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model circuit breaker with real inference workers (TensorFlow on CPU) in one JVM: once
 * every run of genmesh-tiny fails on both workers, its breaker opens after 5 failures and the
 * requests that allow it finish on genmesh-small, each stream telling the user; a request that
 * does not allow it waits on genmesh-tiny.
 */
class ModelFallbackWorkersTest {
  private static final String REGION = "us-west";
  private static final String TINY = "genmesh-tiny";
  private static final String SMALL = "genmesh-small";

  @TempDir Path dir;
  private Vertx vertx;
  private FaultStores stores;

  @AfterEach
  void close() throws Exception {
    if (vertx != null) {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
    if (stores != null) {
      stores.close();
    }
  }

  @Test
  void aModelThatKeepsFailingOpensItsBreakerAndFallbackRequestsCompleteOnTheOtherModel() throws Exception {
    stores = FaultStores.start(dir.resolve("stores"), ProcessRegion.DATABASE);
    GenmeshConfig loaded = ConfigLoader.load(null, Map.of(
        "GENMESH_WORKER__HEARTBEAT_INTERVAL_MS", "500",
        "GENMESH_WORKER__CLAIM_POLL_MS", "200"));
    RegionConfig region = loaded.region(REGION).withHttpPort(0).withStores(
        new RegionConfig.PostgresConfig("127.0.0.1", stores.postgresPort(), ProcessRegion.DATABASE, "postgres", "", 8),
        new RegionConfig.RedisConfig("redis://127.0.0.1:" + stores.redisPort(), "genmesh:fallback:"));
    stores.objectStore().createBucket("genmesh-" + REGION);
    GenmeshConfig config = loaded.withRegions(Map.of(REGION, region)).withImages(loaded.images().withStore(
        stores.objectStore().endpoint(), stores.objectStore().credentialsFile().toString()));
    Path modelRoot = ModelCache.dataDir().resolve("models");

    vertx = Vertx.vertx();
    List<JsonObject> alerts = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer(Addresses.ALERTS, m -> alerts.add(m.body()));
    RegionNodeVerticle node = new RegionNodeVerticle(config, REGION, new SimpleMeterRegistry(), null, Clock.systemUTC()).withLocalSafety(new ReferenceSafety());
    await(vertx.deployVerticle(node));
    AtomicBoolean tinyBroken = new AtomicBoolean(); // after warm-up: a broken model must not stop the workers starting
    FaultHook hook = (model, step, images) -> {
      if (tinyBroken.get() && TINY.equals(model)) {
        throw new IllegalStateException("genmesh-tiny cannot run: its weights failed to load");
      }
    };
    for (String id : List.of("w1", "w2")) {
      await(vertx.deployVerticle(new InferenceVerticle(config, REGION, id, new SimpleMeterRegistry(), modelRoot, hook)));
    }
    tinyBroken.set(true);
    MeshClient api = MeshClient.regional("http://127.0.0.1:" + node.actualPort());

    List<String> fallbacks = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      MeshClient.Answer answer = api.submit(MeshClient.spec("a kite " + i, 2, 256, i).put("allow_fallback", true));
      assertThat(answer.status()).as(answer.body()).isEqualTo(202);
      fallbacks.add(answer.json().getString("id"));
    }

    for (String id : fallbacks) {
      JsonObject view = Sleeps.until(id + " to complete on the fallback", Duration.ofSeconds(60), () -> {
        JsonObject v = api.view(id).json();
        return "completed".equals(v.getString("status")) || "failed".equals(v.getString("status")) ? v : null;
      });
      assertThat(view.getString("status")).as(view.encode()).isEqualTo("completed");
      assertThat(view.getString("model")).isEqualTo(SMALL);
      assertThat(api.events(id)).filteredOn(e -> "fallback".equals(e.getString("type"))).singleElement()
          .satisfies(e -> assertThat(e.getString("reason")).isEqualTo("model genmesh-tiny circuit open"));
    }
    assertThat(node.breakers().modelState(TINY).wireName()).isEqualTo("open");
    assertThat(alerts).anySatisfy(a -> {
      assertThat(a.getString("kind")).isEqualTo("model");
      assertThat(a.getString("name")).isEqualTo(TINY);
      assertThat(a.getString("to")).isEqualTo("open");
    });

    // While it is open, a request that does not allow a fallback waits on its model. A request
    // submitted after it that may fall back completes first: the idle workers have claimed past it.
    MeshClient.Answer strict = api.submit(MeshClient.spec("a kite, strictly", 2, 256, 99));
    assertThat(strict.status()).isEqualTo(202);
    MeshClient.Answer later = api.submit(MeshClient.spec("a kite, submitted later", 2, 256, 100).put("allow_fallback", true));
    assertThat(later.status()).isEqualTo(202);
    JsonObject overtaking = Sleeps.until("the later request to finish", Duration.ofSeconds(60), () -> {
      JsonObject v = api.view(later.json().getString("id")).json();
      return "completed".equals(v.getString("status")) || "failed".equals(v.getString("status")) ? v : null;
    });
    assertThat(overtaking.getString("status")).as(overtaking.encode()).isEqualTo("completed");
    JsonObject waiting = api.view(strict.json().getString("id")).json();
    assertThat(waiting.getString("status")).isEqualTo("queued");
    assertThat(waiting.getString("model")).isEqualTo(TINY);
    assertThat(waiting.getInteger("attempt")).isZero();
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.await(180, TimeUnit.SECONDS);
  }
}
