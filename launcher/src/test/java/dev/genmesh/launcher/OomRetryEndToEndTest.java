package dev.genmesh.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.embedded.EmbeddedStores;
import dev.genmesh.inference.InferenceVerticle;
import dev.genmesh.inference.pipeline.FaultHook;
import dev.genmesh.launcher.impl.ReferenceSafety;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.region.RegionNodeVerticle;
import dev.genmesh.testkit.ManualClock;
import dev.genmesh.testkit.Waits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.exceptions.TFResourceExhaustedException;

/**
 * The OOM path end to end with the real parts: embedded PostgreSQL and Redis, a region node and
 * two inference workers as members of one Hazelcast cluster on loopback, TensorFlow on CPU. The
 * small worker's TensorFlow run raises TensorFlow's own resource-exhausted error at step 2 (there
 * is no GPU here to run out for real); the region types it, retries with {@code batch_size = 1}
 * and the {@code larger_vram} hint, and the big worker completes it.
 */
class OomRetryEndToEndTest {
  private static final String REGION = "us-west";
  private static final long WAIT_S = 120;

  @TempDir Path dir;
  private EmbeddedStores stores;
  private final List<Vertx> members = new ArrayList<>();
  private final ManualClock clock = new ManualClock();
  private final PrometheusMeterRegistry regionMeters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  /** Worker id of every claim the region node received, in order. */
  private final List<String> claimsBy = new CopyOnWriteArrayList<>();
  private final String clusterName = "genmesh-oom-" + UUID.randomUUID().toString().substring(0, 8);
  private GenmeshConfig base;
  private RegionConfig region;
  private WebClient http;
  private int apiPort;

  @AfterEach
  void stopAll() throws Exception {
    for (int i = members.size() - 1; i >= 0; i--) { // workers first, then the region node
      members.get(i).close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
    if (stores != null) {
      stores.close();
    }
  }

  @Test
  void anInducedOomIsTypedAndTheRetryWithBatchOneSucceedsOnTheBiggerWorker() throws Exception {
    startRegion();
    AtomicReference<InferenceVerticle> smallRef = new AtomicReference<>();
    AtomicBoolean armed = new AtomicBoolean(true);
    List<String> adaptersAtOom = new CopyOnWriteArrayList<>();
    FaultHook oomAtStep2 = (model, step, images) -> {
      if (step == 2 && images == 2 && armed.compareAndSet(true, false)) {
        adaptersAtOom.addAll(smallRef.get().loadedAdapters());
        throw new TFResourceExhaustedException("OOM when allocating tensor with shape[4,32,32,32] and type float"
            + " on /job:localhost/replica:0/task:0/device:GPU:0 by allocator GPU_0_bfc");
      }
    };
    InferenceVerticle small = startWorker("usw-small", 4096, oomAtStep2);
    smallRef.set(small);

    GenerationSpec spec = new GenerationSpec("a harbour at night", "", "genmesh-tiny", Tier.FAST, 256, 256, 3, 21L, 7.5, 2,
        "watercolor", 1.0, null, 1.0, 0);
    HttpResponse<Buffer> accepted = Waits.await(WAIT_S, http.post(apiPort, "127.0.0.1", "/regional/v1/generations")
        .sendJsonObject(spec.toJson()));
    assertThat(accepted.statusCode()).as(accepted.bodyAsString()).isEqualTo(202);
    String id = accepted.bodyAsJsonObject().getString("id");

    // Attempt 1 on the small worker fails as oom; the region queues a retry with its hints.
    Waits.eventually(WAIT_S, () -> view(id).getInteger("retry_count") == 1, "the oom retry");
    JsonObject retried = view(id);
    assertThat(retried.getString("status")).isEqualTo("queued");
    assertThat(retried.getJsonObject("last_error").getString("code")).isEqualTo("oom");
    assertThat(retried.getJsonObject("spec").getInteger("batch_size")).as("retried as a batch of one").isEqualTo(1);
    assertThat(retried.getJsonArray("routing_hints").getList()).containsExactly("larger_vram");
    List<JsonObject> events = events(id);
    assertThat(types(events)).containsExactly("queued", "assigned", "queued");
    JsonObject firstAssigned = ofType(events, "assigned").get(0);
    assertThat(firstAssigned.getString("worker")).isEqualTo("usw-small");
    assertThat(firstAssigned.getInteger("attempt")).isEqualTo(1);
    JsonObject retryEvent = ofType(events, "queued").get(1);
    assertThat(retryEvent.getString("reason")).isEqualTo("oom");
    assertThat(retryEvent.getString("message")).contains("OOM when allocating");
    assertThat(retryEvent.getJsonArray("hints").getList()).containsExactly("larger_vram");
    Map<String, Long> hint = memoryColumns(id);
    assertThat(hint.get("hint_min_vram_mb")).as("more than the small worker claimed with")
        .isNotNull().isEqualTo(hint.get("assigned_vram_mb"));
    assertThat(regionMeters.find("genmesh.retries").tags("reason", "oom").counter().count()).isEqualTo(1.0);

    // The small worker protected itself: a lower batch limit, and the adapter out of memory.
    assertThat(adaptersAtOom).as("the adapter was held when the OOM hit").contains("genmesh-tiny:watercolor@1");
    assertThat(small.maxBatchImages()).as("max_batch_images 4, OOM with 2 images: now 1").isEqualTo(1);
    assertThat(small.loadedAdapters()).isEmpty();
    assertThat(small.live()).isTrue();

    // Once the backoff is over the small worker keeps claiming, but the hint keeps the retry from it.
    clock.advance(Duration.ofSeconds(2));
    int claimsBefore = claims("usw-small");
    Waits.eventually(WAIT_S, () -> claims("usw-small") >= claimsBefore + 3, "three claims by the small worker after the backoff");
    assertThat(view(id).getString("status")).as("not taken by the small worker").isEqualTo("queued");
    assertThat(ofType(events(id), "assigned")).hasSize(1);

    InferenceVerticle big = startWorker("usw-big", 16_384, FaultHook.NONE);
    Waits.eventually(WAIT_S, () -> "completed".equals(view(id).getString("status")), "the retry to complete");

    List<JsonObject> all = events(id);
    assertThat(types(all)).containsExactly("queued", "assigned", "queued", "assigned", "completed");
    JsonObject secondAssigned = ofType(all, "assigned").get(1);
    assertThat(secondAssigned.getString("worker")).isEqualTo("usw-big");
    assertThat(secondAssigned.getInteger("attempt")).isEqualTo(2);
    int second = all.indexOf(secondAssigned);
    assertThat(all.subList(second, all.size())).filteredOn(e -> "step".equals(e.getString("type")))
        .extracting(e -> e.getInteger("step")).containsExactly(1, 2, 3);
    assertThat(ofType(all, "completed")).hasSize(1);
    assertThat(big.maxBatchImages()).isEqualTo(4);

    JsonObject done = view(id);
    assertThat(done.getInteger("attempt")).isEqualTo(2);
    assertThat(done.getString("worker")).isEqualTo("usw-big");
    assertThat(done.getJsonArray("images")).hasSize(1);
    HttpResponse<Buffer> image = Waits.await(WAIT_S, http.get(apiPort, "127.0.0.1", "/regional" + done.getJsonArray("images").getString(0))
        .send());
    assertThat(image.statusCode()).isEqualTo(200);
    BufferedImage png = ImageIO.read(new ByteArrayInputStream(image.body().getBytes()));
    assertThat(png.getWidth()).isEqualTo(256);
    assertThat(png.getHeight()).isEqualTo(256);
  }

  private void startRegion() throws Exception {
    GenmeshConfig loaded = config(8192);
    String database = loaded.region(REGION).postgres().database();
    stores = EmbeddedStores.start(dir.resolve("stores"), List.of(database), List.of("genmesh-" + REGION), false);
    int clusterPort = EmbeddedStores.freePort();
    region = loaded.region(REGION)
        .withStores(loaded.region(REGION).postgres().withEndpoint("127.0.0.1", stores.postgresPort()),
            new RegionConfig.RedisConfig(stores.redisUrl(), "genmesh:oom:"))
        .withHttpPort(0)
        .withCluster(clusterPort, List.of("127.0.0.1:" + clusterPort + "-" + (clusterPort + 4)));
    base = loaded.withRegions(Map.of(REGION, region)).withImages(loaded.images().withStore(
        stores.objectStore().endpoint(), stores.objectStore().credentialsFile().toString()));
    Vertx node = member();
    node.eventBus().addInboundInterceptor((DeliveryContext<Object> delivery) -> {
      if (Addresses.claim(REGION).equals(delivery.message().address()) && delivery.message().body() instanceof JsonObject claim) {
        claimsBy.add(claim.getString("worker_id"));
      }
      delivery.next();
    });
    RegionNodeVerticle verticle = new RegionNodeVerticle(base, REGION, regionMeters, null, clock)
        .withLocalSafety(new ReferenceSafety());
    Waits.await(WAIT_S, node.deployVerticle(verticle));
    apiPort = verticle.actualPort();
    http = WebClient.create(node);
  }

  /** A worker on its own cluster member, with this memory budget; returns once it is warmed up. */
  private InferenceVerticle startWorker(String id, long vramMb, FaultHook faults) throws Exception {
    GenmeshConfig config = config(vramMb).withRegions(base.regions()).withImages(base.images());
    InferenceVerticle worker = new InferenceVerticle(config, REGION, id, new SimpleMeterRegistry(), dir.resolve("models"), faults);
    Waits.await(WAIT_S, member().deployVerticle(worker));
    return worker;
  }

  private static GenmeshConfig config(long vramMb) {
    Map<String, String> env = new HashMap<>(Map.of(
        "GENMESH_WORKER__MODELS", "[genmesh-tiny]",
        "GENMESH_WORKER__VRAM_MB", String.valueOf(vramMb),
        "GENMESH_WORKER__CLAIM_POLL_MS", "100",
        "GENMESH_WORKER__HEARTBEAT_INTERVAL_MS", "200",
        "GENMESH_QUEUE__LEASE_REAP_INTERVAL_MS", "100"));
    return ConfigLoader.load(null, env);
  }

  /** A member of the region's Hazelcast cluster, under a cluster name of this test's own. */
  private Vertx member() throws Exception {
    Vertx vertx = Waits.await(WAIT_S, TestCluster.join(region, clusterName));
    members.add(vertx);
    return vertx;
  }

  private int claims(String workerId) {
    return (int) claimsBy.stream().filter(workerId::equals).count();
  }

  private JsonObject view(String id) {
    try {
      return Waits.await(WAIT_S, http.get(apiPort, "127.0.0.1", "/regional/v1/generations/" + id).send()).bodyAsJsonObject();
    } catch (Exception e) {
      throw new AssertionError("status of " + id + " not readable", e);
    }
  }

  private List<JsonObject> events(String id) throws Exception {
    List<JsonObject> out = new ArrayList<>();
    Waits.await(WAIT_S, http.get(apiPort, "127.0.0.1", "/regional/v1/generations/" + id + "/events").send())
        .bodyAsJsonObject().getJsonArray("events").forEach(e -> out.add((JsonObject) e));
    return out;
  }

  /** Event types without the steps (a step report and a failure report race to the request log). */
  private static List<String> types(List<JsonObject> events) {
    return events.stream().map(e -> e.getString("type")).filter(t -> !"step".equals(t)).toList();
  }

  private static List<JsonObject> ofType(List<JsonObject> events, String type) {
    return events.stream().filter(e -> type.equals(e.getString("type"))).toList();
  }

  private Map<String, Long> memoryColumns(String id) throws Exception {
    String url = "jdbc:postgresql://127.0.0.1:" + stores.postgresPort() + "/" + region.postgres().database();
    try (Connection c = DriverManager.getConnection(url, "postgres", "");
        ResultSet row = c.createStatement().executeQuery(
            "SELECT hint_min_vram_mb, assigned_vram_mb FROM requests WHERE id = '" + id + "'")) {
      row.next();
      Map<String, Long> out = new HashMap<>();
      for (String column : Set.of("hint_min_vram_mb", "assigned_vram_mb")) {
        long value = row.getLong(column);
        out.put(column, row.wasNull() ? null : value);
      }
      return out;
    }
  }
}
