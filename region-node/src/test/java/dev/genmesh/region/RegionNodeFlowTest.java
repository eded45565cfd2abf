package dev.genmesh.region;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.images.ImageKeys;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.StoredImage;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.protocol.WorkerMessages.Result;
import dev.genmesh.registry.Sha256;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The node driven as the edge (HTTP) and a worker (event bus) would, on real Postgres and Redis. */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class RegionNodeFlowTest {
  private static final String MODEL = "genmesh-tiny";
  private TestStores stores;

  private Vertx vertx;
  private String database;
  private String prefix;
  private NodeUnderTest node;
  private TestWorker worker;

  @BeforeEach
  void deploy(Vertx vertx, TestStores stores) {
    this.vertx = vertx;
    this.stores = stores;
    TestRegion.Fresh region = TestRegion.fresh(stores);
    database = region.database();
    prefix = region.prefix();
    node = await(NodeUnderTest.deploy(vertx, region.config()));
    worker = new TestWorker(vertx, TestRegion.REGION, "w-" + UUID.randomUUID(), List.of(MODEL));
  }

  @AfterEach
  void undeploy() {
    await(node.undeploy());
  }

  static JsonObject spec(String model, Tier tier) {
    return new GenerationSpec("a red fox in the snow", "", model, tier, 512, 512, 3, 42, 7.5, 1).toJson();
  }

  private String submit(JsonObject body) {
    HttpResponse<Buffer> response = await(node.submit(body));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(202);
    return response.bodyAsJsonObject().getString("id");
  }

  @Test
  void submitClaimStepsResultCompletesAndEverythingIsVisible() throws Exception {
    HttpResponse<Buffer> accepted = await(node.submit(spec(MODEL, Tier.FAST)));
    assertThat(accepted.statusCode()).isEqualTo(202);
    JsonObject view = accepted.bodyAsJsonObject();
    String id = view.getString("id");
    assertThat(id).startsWith("usw_");
    assertThat(accepted.getHeader("Location")).isEqualTo("/regional/v1/generations/" + id);
    assertThat(view.getString("status")).isEqualTo("queued");
    assertThat(view.getString("region")).isEqualTo("us-west");
    assertThat(view.getLong("queue_position")).isEqualTo(0L);
    assertThat(view.getJsonObject("spec").getString("prompt")).isEqualTo("a red fox in the snow");

    // Committed before the 202: the row and its queued event are in Postgres.
    List<Map<String, Object>> rows = stores.query(database, "SELECT status, attempt, tier, model FROM requests WHERE id = ?", id);
    assertThat(rows).singleElement().satisfies(row -> {
      assertThat(row.get("status")).isEqualTo("QUEUED");
      assertThat(row.get("attempt")).isEqualTo(0);
      assertThat(row.get("tier")).isEqualTo("fast");
    });
    assertThat(stores.query(database, "SELECT seq, type FROM request_events WHERE request_id = ?", id))
        .containsExactly(Map.of("seq", 1L, "type", "queued"));

    Assignment assignment = await(worker.claim());
    assertThat(assignment.requestId()).isEqualTo(id);
    assertThat(assignment.attempt()).isEqualTo(1);
    assertThat(assignment.leaseMs()).isEqualTo(30_000L);
    assertThat(assignment.spec().model()).isEqualTo(MODEL);
    assertThat(stores.redis("GET", prefix + "lease:" + id)).endsWith(worker.id);

    for (int step = 1; step <= 3; step++) {
      worker.step(assignment, step, 3, 10.0 * step);
    }
    byte[] png = TestWorker.png(1);
    JsonObject reply = await(worker.result(id, 1, List.of(png)));
    assertThat(reply.getString("status")).isEqualTo("completed");
    assertThat(reply.getJsonArray("images")).containsExactly("/v1/images/" + id + "/0.png");
    assertThat(stores.redis("EXISTS", prefix + "lease:" + id)).isEqualTo(":0");

    JsonObject done = await(node.get("/regional/v1/generations/" + id)).bodyAsJsonObject();
    assertThat(done.getString("status")).isEqualTo("completed");
    assertThat(done.getInteger("attempt")).isEqualTo(1);
    assertThat(done.getString("worker")).isEqualTo(worker.id);
    assertThat(done.getJsonArray("images")).containsExactly("/v1/images/" + id + "/0.png");
    assertThat(done.getValue("error")).isNull();
    assertThat(done.getValue("queue_position")).isNull();
    for (String at : List.of("created_at", "queued_at", "started_at", "completed_at")) {
      assertThat(done.getString(at)).as(at).isNotNull();
    }
    JsonObject timings = done.getJsonObject("timings");
    assertThat(timings.getLong("queue_ms")).isNotNull().isNotNegative();
    assertThat(timings.getLong("generation_ms")).isNotNull().isNotNegative();
    assertThat(timings.getLong("total_ms")).isNotNull().isGreaterThanOrEqualTo(timings.getLong("generation_ms"));
    assertThat(timings.getLong("gpu_ms")).as("the GPU time the worker reported").isEqualTo(123L);

    // The image, in the region's object store under the attempt's key, recorded in the log, served with cache headers.
    assertThat(await(node.images.get(id + "/1/0.png")).getBytes()).isEqualTo(png);
    assertThat(stores.query(database, "SELECT images::text AS images FROM requests WHERE id = ?", id).get(0).get("images")
        .toString()).contains("\"key\": \"" + id + "/1/0.png\"").contains(Sha256.of(png));
    HttpResponse<Buffer> image = await(node.get("/regional/v1/images/" + id + "/0.png"));
    assertThat(image.statusCode()).isEqualTo(200);
    assertThat(image.getHeader("Content-Type")).isEqualTo("image/png");
    assertThat(image.getHeader("Cache-Control")).isEqualTo("public, max-age=31536000, immutable");
    assertThat(image.body().getBytes()).isEqualTo(png);
    String etag = image.getHeader("ETag");
    assertThat(etag).isEqualTo("\"" + Sha256.of(png) + "\"");
    assertThat(await(node.get("/regional/v1/images/" + id + "/0.png", "If-None-Match", etag)).statusCode()).isEqualTo(304);

    // The whole story from the start, in order, then the server closes the stream. The check answered at once, before
    // the result was written: no safety_pending (region-node/SAFETY.md, "Checked before it is written").
    List<JsonObject> events = await(node.stream("/regional/v1/generations/" + id + "/events?after=0"));
    assertThat(events).extracting(e -> e.getString("type"))
        .containsExactly("queued", "assigned", "step", "step", "step", "completed");
    assertThat(events).extracting(e -> e.getLong("id")).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    assertThat(events).allSatisfy(e -> assertThat(e.getString("request_id")).isEqualTo(id));
    assertThat(events.get(0).getLong("position")).isEqualTo(0L);
    assertThat(events.get(1).getString("worker")).isEqualTo(worker.id);
    assertThat(events.get(1).getInteger("attempt")).isEqualTo(1);
    assertThat(events.get(2).getInteger("step")).isEqualTo(1);
    assertThat(events.get(2).getInteger("total")).isEqualTo(3);
    assertThat(events.get(2).getDouble("step_ms")).isEqualTo(10.0);
    assertThat(events.get(5).getJsonArray("images")).containsExactly("/v1/images/" + id + "/0.png");
    assertThat(events.get(5).getJsonObject("safety").getString("verdict")).isEqualTo("allow");

    // Resuming after event 2 gives only what came later.
    List<JsonObject> resumed = await(node.stream("/regional/v1/generations/" + id + "/events?after=2"));
    assertThat(resumed).extracting(e -> e.getLong("id")).containsExactly(3L, 4L, 5L, 6L);

    assertThat(node.meters.get("genmesh.requests").tags("region", "us-west", "tier", "fast", "status", "completed")
        .counter().count()).isEqualTo(1.0);
    assertThat(node.meters.get("genmesh.requests").tags("status", "queued").counter().count()).isEqualTo(1.0);
    assertThat(node.meters.get("genmesh.step.time").tags("region", "us-west", "model", MODEL).timer().count())
        .isEqualTo(3L);
  }

  @Test
  void liveStreamSeesEveryEventOnceInOrderAndCloses() {
    String id = submit(spec(MODEL, Tier.TURBO));
    Future<List<JsonObject>> stream = node.stream("/regional/v1/generations/" + id + "/events");
    Assignment assignment = await(worker.claim());
    for (int step = 1; step <= 3; step++) {
      worker.step(assignment, step, 3, 5.0);
    }
    await(worker.result(id, assignment.attempt(), List.of(TestWorker.png(2), TestWorker.png(3))));

    List<JsonObject> events = await(stream);
    assertThat(events).extracting(e -> e.getLong("id")).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    assertThat(events.get(5).getString("type")).isEqualTo("completed");
    assertThat(events.get(5).getJsonArray("images")).hasSize(2);
  }

  @Test
  void idempotencyKeyGivesTheSameRequestTwice() {
    JsonObject body = spec(MODEL, Tier.RELAX).put("idempotency_key", "key-" + UUID.randomUUID());
    HttpResponse<Buffer> first = await(node.submit(body));
    HttpResponse<Buffer> second = await(node.submit(body));

    assertThat(first.statusCode()).isEqualTo(202);
    assertThat(second.statusCode()).isEqualTo(202);
    String id = first.bodyAsJsonObject().getString("id");
    assertThat(second.bodyAsJsonObject().getString("id")).isEqualTo(id);
    assertThat(second.bodyAsJsonObject().getString("status")).isEqualTo("queued");
    assertThat(stores.query(database, "SELECT id FROM requests WHERE idempotency_key = ?", body.getString("idempotency_key")))
        .hasSize(1);
    assertThat(stores.query(database, "SELECT seq FROM request_events WHERE request_id = ?", id)).hasSize(1);
    assertThat(stores.redis("ZCARD", prefix + "queue:relax")).isEqualTo(":1");
  }

  @Test
  void aRepeatedResultIsTakenOnceAndAStaleAttemptIsRejectedKeepingTheFirstResult() throws Exception {
    String id = submit(spec(MODEL, Tier.FAST));
    Assignment assignment = await(worker.claim());
    byte[] first = TestWorker.png(10);
    await(worker.result(id, assignment.attempt(), List.of(first)));

    // The same report again (a worker whose first hand-in timed out after the region took it): answered as
    // taken, not stale, or the worker would delete the very objects the request is served with.
    JsonObject again = await(worker.report(new Result(id, assignment.attempt(), worker.id,
        List.of(new StoredImage(ImageKeys.of(id, assignment.attempt(), 0), first.length, Sha256.of(first))), 1.0)));
    assertThat(again.getString("status")).isEqualTo("completed");
    assertThat(again.getJsonArray("images")).hasSize(1);
    // Then another attempt's upload and report: stale.
    byte[] other = TestWorker.png(30);
    Throwable neverAssigned = Waits.failure(worker.result(id, assignment.attempt() + 1, List.of(other)));
    assertThat(((ReplyException) neverAssigned).failureCode()).isEqualTo(BusFailure.STALE_ATTEMPT);

    assertThat(await(node.get("/regional/v1/images/" + id + "/0.png")).body().getBytes()).isEqualTo(first);
    assertThat(await(node.images.get(ImageKeys.of(id, assignment.attempt() + 1, 0))).getBytes())
        .as("the stale attempt's object stays until the sweeper takes it").isEqualTo(other);
    JsonObject view = await(node.get("/regional/v1/generations/" + id)).bodyAsJsonObject();
    assertThat(view.getString("status")).isEqualTo("completed");
    assertThat(view.getInteger("attempt")).isEqualTo(1);
    assertThat(stores.query(database, "SELECT type FROM request_events WHERE request_id = ? AND type = 'completed'", id))
        .hasSize(1);
    assertThat(node.meters.get("genmesh.results.discarded").counter().count()).isEqualTo(1.0);
  }

  @Test
  void oomReportRetriesWithABatchOfOneAndTheStreamSaysSo() {
    String id = submit(spec(MODEL, Tier.FAST).put("batch_size", 2));
    Assignment assignment = await(worker.claim());
    JsonObject reply = await(worker.fail(assignment, "oom", "out of memory at 512x512"));
    assertThat(reply.getString("status")).isEqualTo("queued");
    assertThat(reply.getInteger("retry_count")).isEqualTo(1);

    JsonObject view = await(node.get("/regional/v1/generations/" + id)).bodyAsJsonObject();
    assertThat(view.getString("status")).isEqualTo("queued");
    assertThat(view.getInteger("retry_count")).isEqualTo(1);
    assertThat(view.getValue("error")).isNull();
    assertThat(view.getJsonObject("last_error")).isEqualTo(new JsonObject().put("code", "oom").put("message", "out of memory at 512x512"));
    assertThat(view.getJsonObject("spec").getInteger("batch_size")).isEqualTo(1);
    assertThat(view.getJsonArray("routing_hints")).containsExactly("larger_vram");
    assertThat(view.getString("not_before")).isNotNull();
    List<JsonObject> events = node.events(id);
    assertThat(events).extracting(e -> e.getString("type")).containsExactly("queued", "assigned", "queued");
    assertThat(events.get(2).getString("reason")).isEqualTo("oom");
    assertThat(events.get(2).getInteger("retry_count")).isEqualTo(1);
    assertThat(events.get(2).getJsonArray("hints")).containsExactly("larger_vram");
    assertThat(node.counter("genmesh.retries", "reason", "oom")).isEqualTo(1.0);
  }

  @Test
  void claimsGoTurboFirstAndOnlyForModelsTheWorkerHas() {
    String relax = submit(spec(MODEL, Tier.RELAX));
    String fast = submit(spec(MODEL, Tier.FAST));
    String turboOtherModel = submit(spec("other-model", Tier.TURBO));
    TestWorker other = new TestWorker(vertx, TestRegion.REGION, "w-other", List.of("other-model"));

    assertThat(await(worker.claim()).requestId()).isEqualTo(fast);
    assertThat(await(worker.claim()).requestId()).isEqualTo(relax);
    Throwable none = Waits.failure(worker.claim());
    assertThat(((ReplyException) none).failureCode()).isEqualTo(BusFailure.NO_WORK);

    // Passed over, not lost: still queued, at the head of turbo.
    JsonObject waiting = await(node.get("/regional/v1/generations/" + turboOtherModel)).bodyAsJsonObject();
    assertThat(waiting.getString("status")).isEqualTo("queued");
    assertThat(waiting.getLong("queue_position")).isEqualTo(0L);
    assertThat(stores.redis("EXISTS", prefix + "lease:" + turboOtherModel)).isEqualTo(":0");
    assertThat(await(other.claim()).requestId()).isEqualTo(turboOtherModel);
  }

  @Test
  void aDeprioritisedSubmitQueuesBehindOthersOfItsTier() {
    String heavy = submit(spec(MODEL, Tier.RELAX).put("user", "heavy").put("priority", -50));
    String light = submit(spec(MODEL, Tier.RELAX).put("user", "light"));

    assertThat(await(worker.claim()).requestId()).as("the later, normal one first").isEqualTo(light);
    assertThat(await(worker.claim()).requestId()).isEqualTo(heavy);
    HttpResponse<Buffer> raised = await(node.submit(spec(MODEL, Tier.RELAX).put("priority", 5)));
    assertThat(raised.statusCode()).as("a submit cannot jump the queue").isEqualTo(400);
    assertThat(raised.bodyAsJsonObject().getString("field")).isEqualTo("priority");
  }

  @Test
  void heartbeatRenewsTheLeasesOfItsWorkerAndIsRemembered() {
    String id = submit(spec(MODEL, Tier.FAST));
    await(worker.claim());
    String lease = prefix + "lease:" + id;
    stores.redis("PEXPIRE", lease, "60000");
    assertThat(ttl(lease)).isGreaterThan(30_000);

    worker.heartbeat(List.of(id));

    Waits.eventually("the lease to be renewed to lease_ms", () -> ttl(lease) <= 30_000 && ttl(lease) > 20_000);
    assertThat(node.node.knownWorkers()).singleElement()
        .satisfies(w -> {
          assertThat(w.loadedModels()).containsExactly(MODEL);
          assertThat(w.activeRequests()).containsExactly(id);
        });
    assertThat(stores.redis("GET", lease)).endsWith(worker.id);
  }

  private long ttl(String key) {
    return Long.parseLong(stores.redis("PTTL", key).substring(1));
  }

  @Test
  void userErrorsAre4xxWithJsonBodies() {
    String unknown = "usw_" + "0".repeat(26);
    HttpResponse<Buffer> missing = await(node.get("/regional/v1/generations/" + unknown));
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.bodyAsJsonObject().getString("code")).isEqualTo("not_found");
    assertThat(await(node.get("/regional/v1/generations/not-an-id")).bodyAsJsonObject().getString("code"))
        .isEqualTo("not_found");

    Throwable ws = Waits.failure(node.stream("/regional/v1/generations/" + unknown + "/events?after=0"));
    assertThat(ws).isInstanceOf(UpgradeRejectedException.class);
    assertThat(((UpgradeRejectedException) ws).getStatus()).isEqualTo(404);

    HttpResponse<Buffer> badJson = await(node.post("/regional/v1/generations", Buffer.buffer("{\"prompt\": ")));
    assertThat(badJson.statusCode()).isEqualTo(400);
    assertThat(badJson.bodyAsJsonObject().getString("code")).isEqualTo("invalid_json");
    HttpResponse<Buffer> array = await(node.post("/regional/v1/generations", Buffer.buffer("[1, 2]")));
    assertThat(array.statusCode()).isEqualTo(400);
    assertThat(array.bodyAsJsonObject().getString("code")).isEqualTo("invalid_json");
    HttpResponse<Buffer> incomplete = await(node.submit(new JsonObject().put("prompt", "x")));
    assertThat(incomplete.statusCode()).isEqualTo(400);
    assertThat(incomplete.bodyAsJsonObject().getString("message")).isNotBlank();
    HttpResponse<Buffer> badKey = await(node.submit(spec(MODEL, Tier.FAST).put("idempotency_key", 12)));
    assertThat(badKey.statusCode()).isEqualTo(400);
    assertThat(badKey.bodyAsJsonObject().getString("field")).isEqualTo("idempotency_key");

    HttpResponse<Buffer> badAfter = await(node.get("/regional/v1/generations/" + unknown + "/events?after=-1"));
    assertThat(badAfter.statusCode()).isEqualTo(400);
    assertThat(badAfter.bodyAsJsonObject().getString("field")).isEqualTo("after");
    HttpResponse<Buffer> noImage = await(node.get("/regional/v1/images/" + unknown + "/0.png"));
    assertThat(noImage.statusCode()).isEqualTo(404);
    assertThat(noImage.bodyAsJsonObject().getString("code")).isEqualTo("not_found");
    HttpResponse<Buffer> tooLarge = await(node.post("/regional/v1/generations", Buffer.buffer("x".repeat(5 * 1024 * 1024))));
    assertThat(tooLarge.statusCode()).isEqualTo(413);
    assertThat(tooLarge.bodyAsJsonObject().getString("code")).isEqualTo("body_too_large");
    HttpResponse<Buffer> wrongMethod = await(node.post("/regional/v1/generations/" + unknown, Buffer.buffer("{}")));
    assertThat(wrongMethod.statusCode()).isEqualTo(405);
    assertThat(wrongMethod.bodyAsJsonObject().getString("message")).contains("not allowed");
    HttpResponse<Buffer> noRoute = await(node.get("/regional/v1/nothing-here"));
    assertThat(noRoute.statusCode()).isEqualTo(404);
    assertThat(noRoute.bodyAsJsonObject().getString("code")).isEqualTo("not_found");
    assertThat(stores.query(database, "SELECT id FROM requests")).isEmpty();
  }

  @Test
  void healthAndMetricsAnswer() {
    HttpResponse<Buffer> live = await(node.get("/health/live"));
    assertThat(live.statusCode()).isEqualTo(200);
    assertThat(live.bodyAsJsonObject().getJsonArray("checks").getJsonObject(0).getString("id")).isEqualTo("event_loop");
    HttpResponse<Buffer> ready = await(node.get("/health/ready"));
    assertThat(ready.statusCode()).as(ready.bodyAsString()).isEqualTo(200);
    assertThat(ready.bodyAsJsonObject().getString("status")).isEqualTo("UP");
    JsonArray checks = ready.bodyAsJsonObject().getJsonArray("checks");
    assertThat(checks.stream().map(c -> ((JsonObject) c).getString("id"))).containsExactlyInAnyOrder("postgres", "redis", "queues", "replication");
    assertThat(checks.stream().map(c -> ((JsonObject) c).getString("status"))).containsOnly("UP");

    submit(spec(MODEL, Tier.RELAX));
    HttpResponse<Buffer> metrics = await(node.get("/metrics"));
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.bodyAsString())
        .contains("genmesh_requests_total{region=\"us-west\",status=\"queued\",tier=\"relax\"} 1.0")
        .contains("genmesh_queue_depth{region=\"us-west\",tier=\"turbo\"}")
        .contains("genmesh_queue_oldest_age_seconds{region=\"us-west\",tier=\"relax\"}");
    Waits.eventually("the depth gauge to show the queued request",
        () -> node.meters.get("genmesh.queue.depth").tags("tier", "relax").gauge().value() == 1.0);
  }
}
