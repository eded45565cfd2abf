package dev.genmesh.region.safety;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.SafetyConfig;
import dev.genmesh.embedded.EmbeddedStores;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.region.NodeUnderTest;
import dev.genmesh.region.TestRegion;
import dev.genmesh.region.TestWorker;
import dev.genmesh.safety.SafetyVerticle;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The safety gate on real Postgres and Redis, with the reference safety service deployed by the
 * test on a port of its own, so that the test can take it away and bring it back.
 */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class SafetyGateTest {
  private static final String MODEL = "genmesh-tiny";
  private static final long ALERT_AFTER_MS = 300_000;
  private static final String UNAVAILABLE = "safety service unavailable; your image is waiting for its check";
  private static TestStores stores;

  private Vertx vertx;
  private String database;
  private String prefix;
  private int safetyPort;
  private String safetyDeployment;
  private final ShiftedClock clock = new ShiftedClock();
  private final List<JsonObject> alerts = new CopyOnWriteArrayList<>();
  private NodeUnderTest node;
  private TestWorker worker;

  @BeforeAll
  static void startStores(TestStores shared) {
    stores = shared;
  }


  @BeforeEach
  void deploy(Vertx vertx) throws Exception {
    this.vertx = vertx;
    database = stores.createDatabase();
    prefix = TestStores.newKeyPrefix();
    safetyPort = EmbeddedStores.freePort();
    startSafety();
    vertx.eventBus().<JsonObject>consumer(Addresses.ALERTS, message -> alerts.add(message.body()));
    node = await(NodeUnderTest.deploy(vertx, config(), clock));
    worker = new TestWorker(vertx, TestRegion.REGION, "w-" + UUID.randomUUID(), List.of(MODEL));
  }

  @AfterEach
  void undeploy() {
    if (node != null) {
      await(node.undeploy());
    }
  }

  /** Checks every 100 ms; 2 failures open the circuit for 300 ms. */
  private GenmeshConfig config() {
    SafetyConfig safety = new SafetyConfig("http://127.0.0.1:" + safetyPort, 0, 2_000, 100, ALERT_AFTER_MS, 2, 300,
        List.of("gore", "beheading", "csam"));
    return TestRegion.withReapIntervalMs(TestRegion.config(stores, database, prefix), 100).withSafety(safety);
  }

  private void startSafety() {
    SafetyVerticle safety = new SafetyVerticle(SafetyConfig.defaults(), "127.0.0.1", safetyPort, new SimpleMeterRegistry());
    safetyDeployment = await(vertx.deployVerticle(safety));
  }

  private void stopSafety() {
    await(vertx.undeploy(safetyDeployment));
  }

  private static JsonObject spec(String prompt) {
    return new GenerationSpec(prompt, "", MODEL, Tier.FAST, 512, 512, 2, 42, 7.5, 1).toJson();
  }

  private String submit(String prompt) {
    HttpResponse<Buffer> response = await(node.submit(spec(prompt)));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(202);
    return response.bodyAsJsonObject().getString("id");
  }

  /** Claims the next request and hands in {@code png}; answers the region's reply. */
  private JsonObject runToResult(String id, byte[] png) {
    Assignment assignment = await(worker.claim());
    assertThat(assignment.requestId()).isEqualTo(id);
    return await(worker.result(id, assignment.attempt(), List.of(png)));
  }

  private int imageStatus(String id) {
    return await(node.get("/regional/v1/images/" + id + "/0.png")).statusCode();
  }

  private List<String> types(String id) {
    return node.events(id).stream().map(e -> e.getString("type")).toList();
  }

  /**
   * A result of a row this node assigned is checked before anything is written (SAFETY.md, "Checked
   * before it is written"): allowed, it completes in one statement, with no safety_pending; a cancel
   * that lands while that check runs wins, and the worker is told its attempt is stale.
   */
  @Test
  void aResultIsCheckedBeforeItIsWrittenAndACancelDuringTheCheckWins() {
    String quick = submit("a lighthouse at dusk");
    JsonObject reply = runToResult(quick, TestWorker.png(1));
    assertThat(reply.getString("status")).isEqualTo("completed");
    assertThat(types(quick)).containsExactly("queued", "assigned", "completed");
    assertThat(node.view(quick).getJsonObject("timings").getLong("gpu_ms")).as("the GPU time, recorded with the keys")
        .isNotNull();
    assertThat(imageStatus(quick)).isEqualTo(200);

    // A safety service that answers allow only when the test says so.
    stopSafety();
    List<io.vertx.core.http.HttpServerRequest> asked = new CopyOnWriteArrayList<>();
    io.vertx.core.http.HttpServer held = await(vertx.createHttpServer().requestHandler(asked::add).listen(safetyPort));
    try {
      String cancelled = submit("a kite over dunes");
      Assignment assignment = await(worker.claim());
      io.vertx.core.Future<JsonObject> result = worker.result(cancelled, assignment.attempt(), List.of(TestWorker.png(2)));
      Waits.eventually("the check to be asked", () -> !asked.isEmpty());
      assertThat(node.view(cancelled).getString("status")).as("nothing written while the check runs")
          .isIn("assigned", "generating");
      assertThat(await(node.delete("/regional/v1/generations/" + cancelled)).statusCode()).isBetween(200, 299);
      asked.get(0).response().putHeader("content-type", "application/json")
          .end(new JsonObject().put("verdict", "allow").put("reasons", new io.vertx.core.json.JsonArray())
              .put("request_id", cancelled).encode());

      assertThat(((ReplyException) Waits.failure(result)).failureCode()).isEqualTo(BusFailure.STALE_ATTEMPT);
      assertThat(node.view(cancelled).getString("status")).isEqualTo("cancelled");
      assertThat(types(cancelled)).doesNotContain("completed", "safety_pending").endsWith("cancelled");
      assertThat(imageStatus(cancelled)).isEqualTo(404);
    } finally {
      await(held.close());
    }
  }

  @Test
  void aBlockedPromptFailsWithTheReasonAndItsImagesAreNeverServed() {
    String id = submit("a quiet g.o.r.e scene at dawn");
    JsonObject reply = runToResult(id, TestWorker.png(1));

    assertThat(reply.getString("status")).isEqualTo("failed");
    assertThat(reply.getJsonArray("images")).isEmpty();
    JsonObject view = node.view(id);
    assertThat(view.getString("status")).isEqualTo("failed");
    assertThat(view.getJsonObject("error").getString("code")).isEqualTo("safety_blocked");
    assertThat(view.getJsonObject("error").getString("message"))
        .startsWith("safety_blocked: ").contains("blocked term 'gore'");
    assertThat(view.getJsonArray("images")).isEmpty();
    List<JsonObject> events = node.events(id);
    assertThat(events).extracting(e -> e.getString("type"))
        .containsExactly("queued", "assigned", "safety_pending", "failed");
    assertThat(events.get(3).getString("code")).isEqualTo("safety_blocked");
    assertThat(events.get(3).getJsonObject("safety").getString("verdict")).isEqualTo("block");
    assertThat(imageStatus(id)).isEqualTo(404);
    Waits.eventually("the blocked image deleted from the object store",
        () -> await(node.images.head(id + "/1/0.png")).isEmpty());
    assertThat(node.counter("genmesh.safety.checks", "verdict", "block")).isEqualTo(1.0);
    assertThat(node.counter("genmesh.requests", "status", "failed")).isEqualTo(1.0);

    // An image that is one flat colour is blocked too, whatever the prompt.
    String blank = submit("a red fox in the snow");
    assertThat(runToResult(blank, TestWorker.blankPng(512, 512)).getString("status")).isEqualTo("failed");
    assertThat(node.view(blank).getJsonObject("error").getString("message")).contains("image 0 is blank");
    // And one of another size than asked.
    String small = submit("a red fox in the snow");
    assertThat(runToResult(small, TestWorker.png(3, 64, 64)).getString("status")).isEqualTo("failed");
    assertThat(node.view(small).getJsonObject("error").getString("message"))
        .contains("image 0 is 64x64, the request asked for 512x512");
  }

  @Test
  void whileTheServiceIsDownRequestsWaitVisiblyAndTheSweeperCompletesThemWhenItIsBack() {
    String first = submit("a lighthouse at dusk");
    String second = submit("a kite over dunes");
    String cancelled = submit("a quiet harbour");
    stopSafety();

    for (String id : List.of(first, second, cancelled)) {
      JsonObject reply = runToResult(id, TestWorker.png(id.hashCode()));
      assertThat(reply.getString("status")).as("reply for %s", id).isEqualTo("safety_pending");
      assertThat(reply.getJsonArray("images")).isEmpty();
    }
    for (String id : List.of(first, second)) {
      JsonObject view = node.view(id);
      assertThat(view.getString("status")).isEqualTo("safety_pending");
      assertThat(view.getJsonObject("safety").getString("reason")).isEqualTo(UNAVAILABLE);
      assertThat(view.getJsonObject("safety").getString("pending_since")).isNotNull();
      assertThat(view.getJsonArray("images")).isEmpty();
      List<JsonObject> events = node.events(id);
      assertThat(events).extracting(e -> e.getString("type"))
          .containsExactly("queued", "assigned", "safety_pending", "safety_pending");
      assertThat(events.get(2).getString("reason")).isEqualTo("waiting for the safety check");
      assertThat(events.get(3).getString("reason")).isEqualTo(UNAVAILABLE);
      // In the object store, but not served: the regional route (and so the edge's proxy) answers 409.
      assertThat(await(node.images.head(id + "/1/0.png"))).isPresent();
      assertThat(await(node.get("/regional/v1/images/" + id + "/0.png/link")).statusCode()).isEqualTo(409);
      HttpResponse<Buffer> image = await(node.get("/regional/v1/images/" + id + "/0.png"));
      assertThat(image.statusCode()).isEqualTo(409);
      assertThat(image.bodyAsJsonObject().getString("code")).isEqualTo("not_ready");
      assertThat(stores.redis("EXISTS", prefix + "lease:" + id)).isEqualTo(":0");
    }

    // Never re-queued: the lease is gone, yet reaper passes (every 100 ms) leave the rows alone.
    clock.advance(Duration.ofSeconds(5));
    Waits.eventually("several reaper and sweeper passes", () -> node.counter("genmesh.safety.checks", "verdict", "unavailable") >= 5);
    assertThat(((ReplyException) Waits.failure(worker.claim())).failureCode()).isEqualTo(BusFailure.NO_WORK);
    assertThat(stores.query(database, "SELECT count(*) AS n FROM requests WHERE status = 'SAFETY_PENDING'").get(0).get("n"))
        .isEqualTo(3L);
    assertThat(types(first)).as("one unavailable event, not one per retry").hasSize(4);
    Waits.eventually("the pending gauge to show 3",
        () -> node.meters.get("genmesh.safety.pending").gauge().value() == 3.0);

    // A cancel during the wait works; a check answered later changes nothing.
    assertThat(await(node.delete("/regional/v1/generations/" + cancelled)).statusCode()).isEqualTo(200);
    assertThat(node.view(cancelled).getString("status")).isEqualTo("cancelled");

    startSafety();
    Waits.eventually("both waiting requests to complete", () ->
        "completed".equals(node.view(first).getString("status")) && "completed".equals(node.view(second).getString("status")));
    for (String id : List.of(first, second)) {
      List<JsonObject> events = node.events(id);
      JsonObject completed = events.get(events.size() - 1);
      assertThat(completed.getString("type")).isEqualTo("completed");
      assertThat(completed.getJsonObject("safety").getString("verdict")).isEqualTo("allow");
      assertThat(node.view(id).getValue("safety")).isNull();
      assertThat(imageStatus(id)).isEqualTo(200);
    }
    assertThat(node.view(cancelled).getString("status")).isEqualTo("cancelled");
    assertThat(imageStatus(cancelled)).isEqualTo(404);
    assertThat(node.counter("genmesh.safety.checks", "verdict", "allow")).isEqualTo(2.0);
    assertThat(node.counter("genmesh.requests", "status", "completed")).isEqualTo(2.0);
    Waits.eventually("the pending gauge to drop to 0",
        () -> node.meters.get("genmesh.safety.pending").gauge().value() == 0.0);
  }

  @Test
  void aWaitingRequestSurvivesANodeRestartAndCompletesOnTheNextNode() {
    String id = submit("a lighthouse at dusk");
    stopSafety();
    assertThat(runToResult(id, TestWorker.png(5)).getString("status")).isEqualTo("safety_pending");
    await(node.undeploy());
    node = null;

    startSafety();
    node = await(NodeUnderTest.deploy(vertx, config(), clock));
    Waits.eventually("the request to complete on the new node", () -> "completed".equals(node.view(id).getString("status")));
    assertThat(types(id)).containsExactly("queued", "assigned", "safety_pending", "safety_pending", "completed");
    assertThat(imageStatus(id)).isEqualTo(200);
  }

  @Test
  void aRequestWaitingLongerThanAlertAfterRaisesOneAlert() {
    String id = submit("a lighthouse at dusk");
    stopSafety();
    assertThat(runToResult(id, TestWorker.png(7)).getString("status")).isEqualTo("safety_pending");
    clock.advance(Duration.ofMillis(ALERT_AFTER_MS - 60_000));
    Waits.eventually("a sweep after the clock moved", () -> node.counter("genmesh.safety.checks", "verdict", "unavailable") >= 2);
    assertThat(alerts).filteredOn(a -> "safety_pending_too_long".equals(a.getString("type"))).isEmpty();

    clock.advance(Duration.ofMillis(60_000));
    Waits.eventually("the alert", () -> alerts.stream().anyMatch(a -> "safety_pending_too_long".equals(a.getString("type"))));
    JsonObject alert = alerts.stream().filter(a -> "safety_pending_too_long".equals(a.getString("type"))).findFirst().get();
    assertThat(alert.getString("region")).isEqualTo(TestRegion.REGION);
    assertThat(alert.getString("request_id")).isEqualTo(id);
    assertThat(alert.getLong("waiting_ms")).isGreaterThanOrEqualTo(ALERT_AFTER_MS);

    // Later passes do not alert again for the same request.
    double checks = node.counter("genmesh.safety.checks", "verdict", "unavailable");
    clock.advance(Duration.ofMinutes(10));
    Waits.eventually("more sweeps", () -> node.counter("genmesh.safety.checks", "verdict", "unavailable") >= checks + 2);
    assertThat(alerts).filteredOn(a -> "safety_pending_too_long".equals(a.getString("type"))).hasSize(1);
    assertThat(node.counter("genmesh.safety.pending.alerts")).isEqualTo(1.0);
  }

  @Test
  void theCircuitOpensAfterTheConfiguredFailuresAndClosesWhenTheServiceAnswers() {
    stopSafety();
    String first = submit("a lighthouse at dusk");
    String second = submit("a kite over dunes");
    runToResult(first, TestWorker.png(1));
    runToResult(second, TestWorker.png(2));

    Waits.eventually("the circuit to open", () -> alerts.stream().anyMatch(a -> "open".equals(a.getString("to"))));
    JsonObject opened = alerts.stream().filter(a -> "breaker".equals(a.getString("type"))).findFirst().get();
    assertThat(opened.getString("kind")).isEqualTo("safety");
    assertThat(opened.getString("region")).isEqualTo(TestRegion.REGION);
    assertThat(opened.getString("from")).isEqualTo("closed");
    assertThat(opened.getString("to")).isEqualTo("open");
    assertThat(node.counter("genmesh.safety.breaker.transitions", "from", "closed", "to", "open")).isEqualTo(1.0);

    startSafety();
    Waits.eventually("both requests to complete", () ->
        "completed".equals(node.view(first).getString("status")) && "completed".equals(node.view(second).getString("status")));
    Waits.eventually("the circuit to close", () -> alerts.stream().anyMatch(a -> "closed".equals(a.getString("to"))));
    List<String> path = alerts.stream().filter(a -> "breaker".equals(a.getString("type")))
        .map(a -> a.getString("from") + "->" + a.getString("to")).toList();
    assertThat(path).startsWith("closed->open").contains("open->half_open").endsWith("half_open->closed");
    for (int i = 1; i < path.size(); i++) {
      assertThat(path.get(i)).as("each change published once, in order: %s", path)
          .startsWith(path.get(i - 1).substring(path.get(i - 1).indexOf("->") + 2) + "->");
    }
  }

  /**
   * Real time plus a shift the test adds to: retries and claims (a few hundred ms) play out in
   * real time, while "five minutes later" is one call.
   */
  private static final class ShiftedClock extends Clock {
    private final java.util.concurrent.atomic.AtomicLong shiftMs = new java.util.concurrent.atomic.AtomicLong();

    void advance(Duration by) {
      shiftMs.addAndGet(by.toMillis());
    }

    @Override
    public java.time.ZoneId getZone() {
      return java.time.ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public long millis() {
      return System.currentTimeMillis() + shiftMs.get();
    }

    @Override
    public java.time.Instant instant() {
      return java.time.Instant.ofEpochMilli(millis());
    }
  }
}
