package dev.genmesh.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ImagesConfig;
import dev.genmesh.edge.EdgeVerticle;
import dev.genmesh.testkit.Waits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole mesh as a user meets it: embedded PostgreSQL and Redis, three regions each with
 * its own Hazelcast cluster, a CPU worker running the bundled TensorFlow model, and the edge.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MeshEndToEndTest {
  private static final long WAIT_S = 120;

  @TempDir static Path dataDir;
  private Mesh mesh;
  private Vertx vertx;
  private WebClient http;
  private WebSocketClient ws;

  @BeforeAll
  void startMesh() {
    GenmeshConfig config = ConfigLoader.load(null, Map.of(
        "GENMESH_WORKER__CLAIM_POLL_MS", "200",
        "GENMESH_EDGE__REGION_HEALTH_INTERVAL_MS", "500"));
    mesh = Mesh.start(config, new Mesh.Options(dataDir, true, false, "127.0.0.1"), step -> {});
    vertx = Vertx.vertx();
    http = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(mesh.edgePort()));
    ws = vertx.createWebSocketClient();
  }

  @AfterAll
  void stopMesh() {
    if (vertx != null) {
      await(vertx.close().toCompletionStage().toCompletableFuture());
    }
    if (mesh != null) {
      mesh.close();
    }
  }

  @Test
  void promptInPngOutWithLiveProgress() throws Exception {
    JsonObject accepted = submit(new JsonObject().put("prompt", "a lighthouse at dusk").put("seed", 7).put("steps", 4)
        .put("tier", "turbo"));
    String id = accepted.getString("id");

    assertThat(accepted.getString("region")).isEqualTo("us-west"); // lowest latency in the default table
    assertThat(accepted.getString("status")).isEqualTo("queued");
    assertThat(accepted.getJsonObject("links").getString("events")).isEqualTo("/v1/generations/" + id + "/events");
    assertThat(rowsIn("us-west", "genmesh_us_west", "SELECT count(*) FROM requests WHERE id = '" + id + "'")).isEqualTo(1);
    // us-west's log is replicated to its ring peer's own server, in schema us_west beside us-east's tables.
    Waits.eventually(30, () -> {
      try {
        return rowsIn("us-east", "genmesh_us_east", "SELECT count(*) FROM us_west.requests WHERE id = '" + id + "'") == 1;
      } catch (Exception e) {
        return false;
      }
    }, "the request in us-east's replica of us-west");

    List<JsonObject> events = followEvents(id, 0);
    assertThat(events).extracting(e -> e.getString("type"))
        .containsExactly("queued", "assigned", "step", "step", "step", "step", "completed");
    assertThat(events).extracting(e -> e.getLong("id")).isSorted().doesNotHaveDuplicates();
    assertThat(events.subList(2, 6)).extracting(e -> e.getInteger("step")).containsExactly(1, 2, 3, 4);
    assertThat(events.get(2).getInteger("total")).isEqualTo(4);
    assertThat(events.get(1).getString("worker")).isEqualTo("usw-worker-1");
    assertThat(events.get(6).getJsonObject("safety").getString("verdict")).as("checked by the reference safety service")
        .isEqualTo("allow");

    HttpResponse<Buffer> image = get(accepted.getJsonObject("links").getJsonArray("images").getString(0));
    assertThat(image.statusCode()).isEqualTo(200);
    assertThat(image.getHeader("Content-Type")).isEqualTo("image/png");
    assertThat(image.getHeader("Cache-Control")).contains("max-age");
    BufferedImage png = ImageIO.read(new ByteArrayInputStream(image.body().getBytes()));
    assertThat(png.getWidth()).isEqualTo(512);
    assertThat(png.getHeight()).isEqualTo(512);

    JsonObject status = get("/v1/generations/" + id).bodyAsJsonObject();
    assertThat(status.getString("status")).isEqualTo("completed");
    assertThat(status.getJsonObject("timings").getLong("total_ms")).isNotNull();
    assertThat(status.getValue("error")).isNull();

    List<JsonObject> replay = followEvents(id, 0);
    assertThat(replay).extracting(e -> e.getString("type")).endsWith("completed").hasSize(events.size());
    List<JsonObject> resumed = followEvents(id, events.get(3).getLong("id"));
    assertThat(resumed).extracting(e -> e.getLong("id")).containsExactlyElementsOf(
        events.subList(4, events.size()).stream().map(e -> e.getLong("id")).toList());
  }

  /**
   * The images live in the region's bucket of the embedded object store: a second edge that
   * redirects to presigned URLs serves the same bytes as the proxying one, ranges included, and
   * nothing is served before the request completes.
   */
  @Test
  void upGivesItsLocalUserAKeyAndOnlyTheOwnerSeesARequest() throws Exception {
    String key = mesh.localKey().orElseThrow().secret();
    HttpResponse<Buffer> accepted = await(http.post("/v1/generations").putHeader("Authorization", "Bearer " + key)
        .sendJsonObject(new JsonObject().put("prompt", "a lighthouse").put("steps", 2)));
    assertThat(accepted.statusCode()).as(accepted.bodyAsString()).isEqualTo(202);
    String id = accepted.bodyAsJsonObject().getString("id");

    HttpResponse<Buffer> own = await(http.get("/v1/generations/" + id).putHeader("Authorization", "Bearer " + key).send());
    assertThat(own.bodyAsJsonObject().getString("user")).isEqualTo("local");
    assertThat(get("/v1/generations/" + id).statusCode()).as("the anonymous caller is someone else").isEqualTo(404);
    Waits.eventually(WAIT_S, () -> await(http.get("/v1/generations").putHeader("Authorization", "Bearer " + key).send())
        .bodyAsJsonObject().getJsonArray("generations").encode().contains(id), "listed as local's");
    HttpResponse<Buffer> unknown = await(http.get("/v1/generations").putHeader("Authorization", "Bearer gmk_0_nope").send());
    assertThat(unknown.statusCode()).isEqualTo(401);
  }

  @Test
  void imagesComeFromTheObjectStoreProxiedWithRangesOrByAPresignedRedirect() throws Exception {
    JsonObject accepted = submit(new JsonObject().put("prompt", "a harbour at noon").put("seed", 3).put("steps", 3)
        .put("width", 256).put("height", 256));
    String path = accepted.getJsonObject("links").getJsonArray("images").getString(0);
    // Asked at once: the request has not run yet (a claim poll and three TensorFlow steps away).
    HttpResponse<Buffer> early = get(path);
    assertThat(early.statusCode()).as("served only once completed: %s", early.bodyAsString()).isEqualTo(409);
    assertThat(early.bodyAsJsonObject().getString("code")).isEqualTo("not_ready");
    followEvents(accepted.getString("id"), 0);
    byte[] proxied = get(path).body().getBytes();
    HttpResponse<Buffer> range = await(http.get(path).putHeader("Range", "bytes=0-7").send());
    assertThat(range.statusCode()).isEqualTo(206);
    assertThat(range.body().getBytes()).isEqualTo(java.util.Arrays.copyOf(proxied, 8));

    GenmeshConfig running = mesh.config();
    GenmeshConfig redirecting = running.withEdge(running.edge().withPort(0))
        .withImages(running.images().withEdgeDelivery(ImagesConfig.EdgeDelivery.REDIRECT));
    EdgeVerticle edge = new EdgeVerticle(redirecting, new SimpleMeterRegistry());
    String deployment = await(vertx.deployVerticle(edge));
    try {
      WebClient direct = WebClient.create(vertx, new WebClientOptions().setFollowRedirects(false));
      HttpResponse<Buffer> redirect = Waits.await(WAIT_S, direct.get(edge.actualPort(), "127.0.0.1", path).send());
      assertThat(redirect.statusCode()).isEqualTo(302);
      String location = redirect.getHeader("Location");
      assertThat(location).startsWith(mesh.stores().objectStore().endpoint() + "/genmesh-us-west/")
          .contains("X-Amz-Signature=");
      HttpResponse<Buffer> fromStore = Waits.await(WAIT_S, direct.getAbs(location).send());
      assertThat(fromStore.statusCode()).isEqualTo(200);
      assertThat(fromStore.body().getBytes()).isEqualTo(proxied);
      assertThat(fromStore.getHeader("Cache-Control")).isEqualTo("public, max-age=31536000, immutable");
    } finally {
      await(vertx.undeploy(deployment));
    }
  }

  @Test
  void samePromptAndSeedGiveSameBytesAndAnotherSeedAnotherImage() throws Exception {
    JsonObject request = new JsonObject().put("prompt", "a red fox in snow").put("steps", 3).put("width", 256).put("height", 256);
    byte[] first = generate(request.copy().put("seed", 11));
    byte[] again = generate(request.copy().put("seed", 11));
    byte[] other = generate(request.copy().put("seed", 12));

    assertThat(again).isEqualTo(first);
    assertThat(other).isNotEqualTo(first);
    BufferedImage png = ImageIO.read(new ByteArrayInputStream(first));
    assertThat(png.getWidth()).isEqualTo(256);
  }

  @Test
  void idempotencyKeyMakesARetriedSubmitReturnTheFirstAnswer() throws Exception {
    JsonObject body = new JsonObject().put("prompt", "retry me").put("steps", 1).put("width", 256).put("height", 256).put("seed", 1);
    String key = "retry-" + System.nanoTime();
    HttpResponse<Buffer> first = await(http.post("/v1/generations").putHeader("Idempotency-Key", key).sendJsonObject(body));
    HttpResponse<Buffer> second = await(http.post("/v1/generations").putHeader("Idempotency-Key", key).sendJsonObject(body));
    HttpResponse<Buffer> otherBody = await(http.post("/v1/generations").putHeader("Idempotency-Key", key)
        .sendJsonObject(body.copy().put("prompt", "another request")));

    assertThat(first.statusCode()).isEqualTo(202);
    assertThat(second.statusCode()).isEqualTo(202);
    String id = first.bodyAsJsonObject().getString("id");
    assertThat(second.bodyAsJsonObject().getString("id")).isEqualTo(id);
    assertThat(otherBody.statusCode()).as(otherBody.bodyAsString()).isEqualTo(422);
    assertThat(otherBody.bodyAsJsonObject().getString("code")).isEqualTo("idempotency_key_reused");
    assertThat(rowsIn("us-west", "genmesh_us_west", "SELECT count(*) FROM requests WHERE idempotency_key = '" + key + "'"))
        .isEqualTo(1);
    assertThat(followEvents(id, 0)).last().satisfies(e -> assertThat(e.getString("type")).isEqualTo("completed"));
  }

  @Test
  void badInputIsRejectedWithAClearErrorAndNothingIsQueued() throws Exception {
    long before = requestsInAllRegions();
    String longPrompt = "x".repeat(mesh.config().edge().maxPromptChars() + 1);

    assertRejected("{not json", 400, "invalid_json", null);
    assertRejected("{}", 400, "missing_field", "prompt");
    assertRejected(new JsonObject().put("prompt", longPrompt).encode(), 400, "prompt_too_long", "prompt");
    assertRejected(new JsonObject().put("prompt", "cat").put("model", "dall-e").encode(), 400, "unknown_model", "model");
    assertRejected(new JsonObject().put("prompt", "cat").put("tier", "ultra").encode(), 400, "unknown_tier", "tier");
    assertRejected(new JsonObject().put("prompt", "cat").put("width", 500).encode(), 400, "unsupported_size", "width");
    assertRejected(new JsonObject().put("prompt", "cat").put("height", 4096).encode(), 400, "unsupported_size", "height");
    assertRejected(new JsonObject().put("prompt", "cat").put("steps", 0).encode(), 400, "out_of_range", "steps");
    assertRejected(new JsonObject().put("prompt", "cat").put("batch_size", 99).encode(), 400, "out_of_range", "batch_size");
    assertRejected(new JsonObject().put("prompt", "y".repeat(mesh.config().edge().maxBodyBytes() + 1)).encode(), 413,
        "body_too_large", null);
    // What no store holds: once a 500 from every region's PostgreSQL that marked them all unhealthy.
    assertRejected(new JsonObject().put("prompt", "a\u0000cat").encode(), 400, "invalid_value", "prompt");
    assertRejected("{\"prompt\": \"a\\ud800cat\"}", 400, "invalid_value", "prompt");
    assertRejected("{\"prompt\": \"cat\", \"seed\": 1e999999999}", 400, "out_of_range", "seed");

    HttpResponse<Buffer> unknown = get("/v1/generations/usw_00000000000000000000000000");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.bodyAsJsonObject().getString("code")).isEqualTo("not_found");
    assertThat(requestsInAllRegions()).isEqualTo(before);
    JsonObject regions = get("/health/ready").bodyAsJsonObject().getJsonObject("regions");
    assertThat(regions.fieldNames()).allSatisfy(name ->
        assertThat(regions.getJsonObject(name).getString("status")).as(name).isEqualTo("healthy"));
  }

  @Test
  void modelsAreListedFromTheRegionRegistriesThatUpFilled() throws Exception {
    // up publishes into the primary (us-west); the other regions pull from it (MODEL.md, "Across regions").
    for (String region : List.of("us-east", "eu-west")) {
      int port = mesh.config().region(region).httpPort();
      Waits.eventually(WAIT_S, () -> await(http.get(port, "127.0.0.1", "/regional/v1/models").send()).bodyAsJsonObject()
          .getJsonArray("models").size() == mesh.config().models().size(), region + " pulled the bundled models");
      JsonObject mirror = await(http.get(port, "127.0.0.1", "/regional/v1/models").send()).bodyAsJsonObject()
          .getJsonObject("mirror");
      assertThat(mirror.getString("primary")).isEqualTo("us-west");
      assertThat(mirror.getString("state")).isEqualTo("following");
    }
    Waits.eventually(WAIT_S, () -> await(http.get("/v1/models").send()).bodyAsJsonObject().getJsonArray("models").stream()
        .map(JsonObject.class::cast).allMatch(m -> m.getJsonObject("regions").size() == mesh.config().regions().size()),
        "the edge's listing (cached catalog_cache_ms) shows every region");
    JsonObject listing = get("/v1/models").bodyAsJsonObject();

    assertThat(listing.getString("source")).isEqualTo("registry");
    assertThat(listing.getJsonArray("regions").getList()).containsExactlyInAnyOrderElementsOf(mesh.config().regions().keySet());
    for (String name : mesh.config().models().keySet()) {
      JsonObject model = listing.getJsonArray("models").stream().map(JsonObject.class::cast)
          .filter(m -> name.equals(m.getString("name"))).findFirst().orElseThrow();
      String version = mesh.config().models().get(name).version();
      assertThat(model.getString("current_version")).isEqualTo(version);
      for (String region : mesh.config().regions().keySet()) {
        assertThat(model.getJsonObject("regions").getJsonObject(region).getString("current")).as(region).isEqualTo(version);
      }
      assertThat(model.getJsonArray("request_classes")).isNotEmpty();
    }
  }

  @Test
  void operatorSurfacesAnswer() throws Exception {
    generate(new JsonObject().put("prompt", "metrics please").put("steps", 2).put("width", 256).put("height", 256).put("seed", 3));

    assertThat(get("/health/ready").statusCode()).isEqualTo(200);
    String metrics = get("/metrics").bodyAsString();
    assertThat(metrics).contains("genmesh_requests_total").contains("tier=\"fast\"").contains("status=\"completed\"");
    assertThat(metrics).contains("genmesh_step_time_seconds");
    String page = get("/").bodyAsString();
    assertThat(page).containsIgnoringCase("<html").contains("/v1/generations");
    assertThat(mesh.workerHttp()).containsOnlyKeys(mesh.config().regions().keySet());
    for (String base : mesh.workerHttp().values()) {
      HttpResponse<Buffer> live = await(http.getAbs(base + "/health/live").send());
      assertThat(live.statusCode()).as(base + " live: " + live.bodyAsString()).isEqualTo(200);
      HttpResponse<Buffer> ready = await(http.getAbs(base + "/health/ready").send());
      assertThat(ready.statusCode()).as(base + " ready: " + ready.bodyAsString()).isEqualTo(200);
      assertThat(ready.bodyAsJsonObject().getJsonArray("checks")).hasSize(3);
    }
  }

  private byte[] generate(JsonObject request) throws Exception {
    JsonObject accepted = submit(request);
    List<JsonObject> events = followEvents(accepted.getString("id"), 0);
    assertThat(events).last().satisfies(e -> assertThat(e.getString("type")).isEqualTo("completed"));
    HttpResponse<Buffer> image = get(accepted.getJsonObject("links").getJsonArray("images").getString(0));
    assertThat(image.statusCode()).isEqualTo(200);
    return image.body().getBytes();
  }

  private JsonObject submit(JsonObject request) throws Exception {
    HttpResponse<Buffer> response = await(http.post("/v1/generations").sendJsonObject(request));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(202);
    assertThat(response.getHeader("Location")).isEqualTo("/v1/generations/" + response.bodyAsJsonObject().getString("id"));
    return response.bodyAsJsonObject();
  }

  private void assertRejected(String body, int status, String code, String field) throws Exception {
    HttpResponse<Buffer> response = await(http.post("/v1/generations").putHeader("Content-Type", "application/json")
        .sendBuffer(Buffer.buffer(body)));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(status);
    JsonObject error = response.bodyAsJsonObject();
    assertThat(error.getString("code")).isEqualTo(code);
    assertThat(error.getString("message")).isNotBlank();
    if (field != null) {
      assertThat(error.getString("field")).isEqualTo(field);
    }
  }

  /** Follows the event stream until the server closes it, and returns every event seen. */
  private List<JsonObject> followEvents(String id, long after) throws Exception {
    List<JsonObject> events = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> closed = new CompletableFuture<>();
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(mesh.edgePort())
        .setURI("/v1/generations/" + id + "/events" + (after > 0 ? "?after=" + after : ""));
    await(ws.connect(options).onSuccess(socket -> {
      socket.textMessageHandler(text -> events.add(new JsonObject(text)));
      socket.closeHandler(v -> closed.complete(null));
    }));
    closed.get(WAIT_S, TimeUnit.SECONDS);
    return new ArrayList<>(events);
  }

  @Test
  void upArchivesEachRegionsWalAndTakesABaseBackupAtItsFirstStart() throws Exception {
    for (String region : mesh.config().regions().keySet()) {
      Waits.eventually(WAIT_S, () -> mesh.meters().find("genmesh.backups").tags("set", region, "kind", "base", "outcome", "ok")
          .counter() != null, "the first base backup of " + region + "'s PostgreSQL");
      var folder = dev.genmesh.launcher.backup.LocalBackups.folder(mesh.config(), dataDir, region);
      assertThat(folder.baseBackups()).hasSize(1);
      assertThat(rowsIn(region, "postgres", "SELECT archived_count FROM pg_stat_archiver")).isPositive();
      try (var copied = java.nio.file.Files.walk(mesh.stores().objectStore().bucketDir("genmesh-" + region + "-backups"))) {
        assertThat(copied.map(Path::toString).toList()).as("copied to the next region's store")
            .anyMatch(f -> f.endsWith("base.zip"));
      }
    }
  }

  private HttpResponse<Buffer> get(String path) throws Exception {
    return await(http.get(path).send());
  }

  private long requestsInAllRegions() throws Exception {
    long total = 0;
    for (var region : mesh.config().regions().values()) {
      total += rowsIn(region.name(), region.postgres().database(), "SELECT count(*) FROM requests");
    }
    return total;
  }

  /** {@code sql} in {@code region}'s own server and database (its tables: the database's default search_path). */
  private long rowsIn(String region, String database, String sql) throws Exception {
    String url = "jdbc:postgresql://127.0.0.1:" + mesh.stores().postgresPort(region) + "/" + database;
    try (Connection c = DriverManager.getConnection(url, "postgres", ""); ResultSet rows = c.createStatement().executeQuery(sql)) {
      rows.next();
      return rows.getLong(1);
    }
  }

  private static <T> T await(io.vertx.core.Future<T> future) {
    return Waits.await(WAIT_S, future);
  }

  private static <T> T await(CompletableFuture<T> future) {
    return future.orTimeout(WAIT_S, TimeUnit.SECONDS).join();
  }
}
