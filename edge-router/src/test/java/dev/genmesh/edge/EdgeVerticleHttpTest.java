package dev.genmesh.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.EdgeConfig;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ImagesConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.testkit.Waits;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The edge over real HTTP and WebSockets, in front of three small fake regions
 * ({@link FakeRegion}): us-west (20 ms), us-east (70 ms), eu-west (140 ms).
 */
@ExtendWith(VertxExtension.class)
class EdgeVerticleHttpTest {
  private static final long AWAIT_S = 10;
  private static final int MAX_BODY = 8192;
  /** Generous: a loaded 2-core machine must not turn a slow first poll into an "unhealthy" region. */
  private static final long REGION_TIMEOUT_MS = 5_000;

  private Vertx vertx;
  private FakeRegion usWest;
  private FakeRegion usEast;
  private FakeRegion euWest;
  private List<FakeRegion> fakes;
  private WebClient http;
  private WebSocketClient webSockets;
  private int port;

  @BeforeEach
  void startMesh(Vertx vertx) throws Exception {
    this.vertx = vertx;
    usWest = Waits.await(AWAIT_S, new FakeRegion(vertx, "us-west", "usw").start());
    usEast = Waits.await(AWAIT_S, new FakeRegion(vertx, "us-east", "use").start());
    euWest = Waits.await(AWAIT_S, new FakeRegion(vertx, "eu-west", "euw").start());
    fakes = List.of(usWest, usEast, euWest);

    http = WebClient.create(vertx);
    webSockets = vertx.createWebSocketClient();
    // One readiness poll at start-up only: each test then decides what the regions do.
    port = startEdge(REGION_TIMEOUT_MS, 3_600_000L);
  }

  /** Deploys an edge in front of the fake regions and waits until its first polls found them healthy. */
  private int startEdge(long regionTimeoutMs, long healthIntervalMs) throws Exception {
    return startEdge(regionTimeoutMs, healthIntervalMs, ConfigLoader.defaults());
  }

  private int startEdge(long regionTimeoutMs, long healthIntervalMs, GenmeshConfig defaults) throws Exception {
    Map<String, RegionConfig> regions = new LinkedHashMap<>(); // in the defaults' order: the copies ring follows it
    for (FakeRegion fake : fakes) {
      regions.put(fake.name, defaults.region(fake.name).withApiUrl(fake.url()));
    }
    EdgeConfig edge = defaults.edge();
    EdgeConfig testEdge = new EdgeConfig(
        "127.0.0.1", 0, MAX_BODY, edge.maxPromptChars(), healthIntervalMs, regionTimeoutMs, edge.latencyMs());
    EdgeVerticle verticle = new EdgeVerticle(
        defaults.withEdge(testEdge).withRegions(regions), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    Waits.await(AWAIT_S, vertx.deployVerticle(verticle));
    port = verticle.actualPort();
    eventually(() -> readyRegions().stream().allMatch(status -> status.equals("healthy")), "all regions polled healthy");
    return port;
  }

  // ---- submit -------------------------------------------------------------------------

  @Test
  void badInputGets400NamingTheProblemAndIsNotForwarded() throws Exception {
    assertError(post("{\"prompt\": \"a cat\"", null), 400, "invalid_json", null);
    assertError(post("[\"a cat\"]", null), 400, "invalid_json", null);
    assertError(post("", null), 400, "invalid_json", null);
    assertError(post("{}", null), 400, "missing_field", "prompt");
    assertError(post("{\"prompt\": \"a cat\", \"promt\": \"typo\"}", null), 400, "invalid_field", "promt");
    assertError(post("{\"prompt\": \"a cat\", \"width\": \"512\"}", null), 400, "invalid_field", "width");
    assertError(post("{\"prompt\": \"a cat\", \"width\": 500}", null), 400, "unsupported_size", "width");
    assertError(post("{\"prompt\": \"a cat\", \"model\": \"sdxl\"}", null), 400, "unknown_model", "model");
    assertError(post("{\"prompt\": \"a cat\", \"tier\": \"gold\"}", null), 400, "unknown_tier", "tier");
    assertError(post("{\"prompt\": \"a cat\", \"steps\": 0}", null), 400, "out_of_range", "steps");
    assertError(post("{\"prompt\": \"" + "x".repeat(2001) + "\"}", null), 400, "prompt_too_long", "prompt");
    assertError(post("{\"prompt\": \"a cat\"}", "k".repeat(201)), 400, "invalid_field", "Idempotency-Key");

    assertThat(fakes).allSatisfy(fake -> assertThat(fake.submits).isEmpty());
    assertThat(scrape()).contains("genmesh_edge_requests_total{code=\"invalid_json\",outcome=\"rejected\",tier=\"unknown\"} 3.0")
        .contains("genmesh_edge_requests_total{code=\"invalid_field\",outcome=\"rejected\",tier=\"fast\"} 3.0");
  }

  @Test
  void adapterAndConditioningMistakesGet400AndAreNotForwarded() throws Exception {
    assertError(post("{\"prompt\": \"a cat\", \"adapter\": \"oilpaint\"}", null), 400, "invalid_field", "adapter");
    assertError(post("{\"prompt\": \"a cat\", \"model\": \"genmesh-small\", \"adapter\": \"watercolor\"}", null),
        400, "invalid_field", "adapter");
    assertError(post("{\"prompt\": \"a cat\", \"control_image\": \"%%%\"}", null), 400, "invalid_field", "control_image");
    String wrongSize = dev.genmesh.edge.impl.RequestOptionsTest.png(64, 64);
    assertError(post("{\"prompt\": \"a cat\", \"control_image\": \"" + wrongSize + "\"}", null), 400, "invalid_field",
        "control_image");

    assertThat(fakes).allSatisfy(fake -> assertThat(fake.submits).isEmpty());
  }

  @Test
  void oversizedBodyGets413AsJson() throws Exception {
    String body = "{\"prompt\": \"" + "x".repeat(MAX_BODY) + "\"}";

    assertError(post(body, null), 413, "body_too_large", null);
    assertThat(fakes).allSatisfy(fake -> assertThat(fake.submits).isEmpty());
    assertThat(scrape()).contains("genmesh_edge_requests_total{code=\"body_too_large\",outcome=\"rejected\",tier=\"unknown\"} 1.0");
  }

  @Test
  void acceptedSubmitAnswers202WithLinksAndLocation() throws Exception {
    HttpResponse<Buffer> response = post("{\"prompt\": \"a lighthouse\", \"batch_size\": 2, \"seed\": 5}", "order-17");

    assertThat(response.statusCode()).isEqualTo(202);
    JsonObject view = response.bodyAsJsonObject();
    String id = view.getString("id");
    assertThat(id).startsWith("usw_");
    assertThat(view.getString("region")).isEqualTo("us-west");
    assertThat(response.getHeader("Location")).isEqualTo("/v1/generations/" + id);
    assertThat(view.getJsonObject("links")).isEqualTo(new JsonObject()
        .put("self", "/v1/generations/" + id)
        .put("events", "/v1/generations/" + id + "/events")
        .put("images", new JsonArray().add("/v1/images/" + id + "/0.png").add("/v1/images/" + id + "/1.png")));

    assertThat(usWest.submits).singleElement().satisfies(sent -> {
      assertThat(sent.getString("idempotency_key")).isEqualTo("order-17");
      assertThat(sent.getString("prompt")).isEqualTo("a lighthouse");
      assertThat(sent.getString("model")).isEqualTo("genmesh-tiny");
      assertThat(sent.getString("tier")).isEqualTo("fast");
      assertThat(sent.getInteger("width")).isEqualTo(512);
      assertThat(sent.getInteger("steps")).isEqualTo(20);
      assertThat(sent.getLong("seed")).isEqualTo(5L);
      assertThat(sent.getInteger("batch_size")).isEqualTo(2);
    });
    assertThat(usEast.submits).isEmpty();
    assertThat(scrape()).contains("genmesh_edge_requests_total{code=\"none\",outcome=\"accepted\",tier=\"fast\"} 1.0");
  }

  @Test
  void spillsOverWhenTheNearestRegionAnswers503() throws Exception {
    usWest.submitStatus = 503;

    HttpResponse<Buffer> response = post("{\"prompt\": \"a lighthouse\", \"tier\": \"turbo\"}", "spill-1");

    assertThat(response.statusCode()).isEqualTo(202);
    assertThat(response.bodyAsJsonObject().getString("region")).isEqualTo("us-east");
    assertThat(usWest.submits).hasSize(1);
    assertThat(usEast.submits).singleElement()
        .satisfies(sent -> assertThat(sent.getString("idempotency_key")).isEqualTo("spill-1"));
    assertThat(scrape()).contains("genmesh_edge_spillover_total{from=\"us-west\",to=\"us-east\"} 1.0");
    assertThat(readyBody().getJsonObject("regions").getJsonObject("us-west").getString("status")).isEqualTo("unhealthy");

    // Now known unhealthy, us-west is not tried at all.
    assertThat(post("{\"prompt\": \"again\"}", null).bodyAsJsonObject().getString("region")).isEqualTo("us-east");
    assertThat(usWest.submits).hasSize(1);
  }

  @Test
  void spillsOverWhenTheNearestRegionIsDown() throws Exception {
    Waits.await(AWAIT_S, usWest.stop());

    HttpResponse<Buffer> response = post("{\"prompt\": \"a lighthouse\"}", null);

    assertThat(response.statusCode()).isEqualTo(202);
    assertThat(response.bodyAsJsonObject().getString("id")).startsWith("use_");
    assertThat(scrape()).contains("genmesh_edge_spillover_total{from=\"us-west\",to=\"us-east\"} 1.0");
  }

  @Test
  void spillsOverWhenTheNearestRegionDoesNotAnswerInTime() throws Exception {
    // An edge that gives up on a region after 1 s; it re-polls readiness every 200 ms so that
    // a slow first poll on a busy machine cannot leave a region unhealthy for the whole test.
    port = startEdge(1_000, 200);
    usWest.submitStatus = 0;

    HttpResponse<Buffer> response = post("{\"prompt\": \"a lighthouse\"}", "slow-1");

    assertThat(response.statusCode()).isEqualTo(202);
    assertThat(response.bodyAsJsonObject().getString("region")).isEqualTo("us-east");
    assertThat(usWest.submits).hasSize(1);
    assertThat(scrape()).contains("genmesh_edge_spillover_total{from=\"us-west\",to=\"us-east\"} 1.0");
  }

  @Test
  void answers503WithRetryAfterWhenNoRegionTakesTheRequest() throws Exception {
    fakes.forEach(fake -> fake.submitStatus = 503);

    HttpResponse<Buffer> response = post("{\"prompt\": \"a lighthouse\", \"tier\": \"relax\"}", null);

    assertError(response, 503, "region_unavailable", null);
    assertThat(response.getHeader("Retry-After")).isEqualTo("7");
    assertThat(fakes).allSatisfy(fake -> assertThat(fake.submits).hasSize(1));
    assertThat(scrape()).contains("genmesh_edge_requests_total{code=\"region_unavailable\",outcome=\"unavailable\",tier=\"relax\"} 1.0");
  }

  @Test
  void aRegionSheddingTheTierSpillsOverButStaysHealthy() throws Exception {
    usWest.submitStatus = 503;
    usWest.submitErrorCode = "overloaded";

    HttpResponse<Buffer> response = post("{\"prompt\": \"a lighthouse\", \"tier\": \"relax\"}", null);

    assertThat(response.statusCode()).isEqualTo(202);
    assertThat(response.bodyAsJsonObject().getString("region")).isEqualTo("us-east");
    assertThat(readyRegions()).as("shedding one tier is not being down").containsOnly("healthy");
    usWest.submitStatus = 202;
    assertThat(post("{\"prompt\": \"a lighthouse\", \"tier\": \"turbo\"}", null).bodyAsJsonObject().getString("region"))
        .as("the nearest region still gets the next request").isEqualTo("us-west");
  }

  @Test
  void answers503OverloadedWithTheShortestRetryAfterWhenEveryRegionSheds() throws Exception {
    fakes.forEach(fake -> {
      fake.submitStatus = 503;
      fake.submitErrorCode = "overloaded";
    });
    usEast.submitRetryAfter = "4";

    HttpResponse<Buffer> response = post("{\"prompt\": \"a lighthouse\", \"tier\": \"relax\"}", null);

    assertError(response, 503, "overloaded", null);
    assertThat(response.getHeader("Retry-After")).isEqualTo("4");
    assertThat(fakes).allSatisfy(fake -> assertThat(fake.submits).hasSize(1));
    assertThat(readyRegions()).containsOnly("healthy");
    assertThat(scrape()).contains("genmesh_edge_requests_total{code=\"overloaded\",outcome=\"unavailable\",tier=\"relax\"} 1.0");
  }

  @Test
  void passesARegionsOwnRejectionThroughWithoutSpillingOver() throws Exception {
    usWest.submitStatus = 422;

    HttpResponse<Buffer> response = post("{\"prompt\": \"a lighthouse\"}", null);

    assertThat(response.statusCode()).isEqualTo(422);
    assertThat(response.bodyAsJsonObject().getString("code")).isEqualTo("storage_unavailable");
    assertThat(usEast.submits).isEmpty();
  }

  // ---- status -------------------------------------------------------------------------

  @Test
  void statusComesFromTheRegionInTheIdWithLinks() throws Exception {
    String id = post("{\"prompt\": \"a lighthouse\"}", null).bodyAsJsonObject().getString("id");

    HttpResponse<Buffer> response = get("/v1/generations/" + id);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.bodyAsJsonObject().getString("status")).isEqualTo("queued");
    assertThat(response.bodyAsJsonObject().getJsonObject("links").getString("events")).isEqualTo("/v1/generations/" + id + "/events");
  }

  @Test
  void unknownIdsGet404() throws Exception {
    assertError(get("/v1/generations/not-an-id"), 404, "not_found", null);
    assertError(get("/v1/generations/zzz_" + "0".repeat(26)), 404, "not_found", null);
    int before = usWest.requests.get();
    assertError(get("/v1/generations/usw_" + "0".repeat(26)), 404, "not_found", null);
    assertThat(usWest.requests.get()).isEqualTo(before + 1);
    assertError(get("/v1/nothing-here"), 404, "not_found", null);
  }

  // ---- events -------------------------------------------------------------------------

  @Test
  void relaysEventFramesInOrderAndClosesWhenTheRegionDoes() throws Exception {
    List<JsonObject> history = history(5);
    String id = usEast.addRequest(history);

    Stream stream = openStream(new WebSocketConnectOptions().setURI("/v1/generations/" + id + "/events"));
    Waits.await(AWAIT_S, stream.closed.future());

    assertThat(stream.frames).extracting(frame -> frame.getLong("id")).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
    assertThat(stream.frames).extracting(frame -> frame.getString("type"))
        .containsExactly("queued", "assigned", "step", "step", "step", "step", "step", "completed");
    assertThat(stream.frames).allSatisfy(frame -> assertThat(frame.getString("request_id")).isEqualTo(id));
    assertThat(stream.socket.closeStatusCode()).isEqualTo((short) 1000);
  }

  @Test
  void resumesAfterTheGivenEventId() throws Exception {
    String id = usWest.addRequest(history(3));

    Stream byQuery = openStream(new WebSocketConnectOptions().setURI("/v1/generations/" + id + "/events?after=4"));
    Waits.await(AWAIT_S, byQuery.closed.future());
    Stream byHeader = openStream(new WebSocketConnectOptions().setURI("/v1/generations/" + id + "/events")
        .addHeader("Last-Event-ID", "5"));
    Waits.await(AWAIT_S, byHeader.closed.future());

    // The region may close a finished request's stream before the edge relays it; the edge then
    // opens it once more from the same point (ProgressRelay.relayOrReopen), so 4 may come twice.
    assertThat(new java.util.LinkedHashSet<>(usWest.streamAfters)).containsExactly(4L, 5L);
    assertThat(byQuery.frames).extracting(frame -> frame.getLong("id")).containsExactly(5L, 6L);
    assertThat(byHeader.frames).extracting(frame -> frame.getLong("id")).containsExactly(6L);
  }

  @Test
  void closesTheRegionStreamWhenTheClientLeaves() throws Exception {
    String id = euWest.addRequest(history(2));
    euWest.running.add(id);

    Stream stream = openStream(new WebSocketConnectOptions().setURI("/v1/generations/" + id + "/events"));
    eventually(() -> stream.frames.size() == 5, "all events relayed");
    Waits.await(AWAIT_S, stream.socket.close());

    eventually(() -> euWest.streamsClosedByEdge.get() == 1, "the edge closed the region stream");
  }

  @Test
  void eventsOfAnUnknownRequestGet404BeforeTheUpgrade() throws Exception {
    for (String id : List.of("usw_" + "0".repeat(26), "nonsense", "zzz_" + "0".repeat(26))) {
      assertThat(Waits.failure(webSockets.connect(port, "127.0.0.1", "/v1/generations/" + id + "/events")))
          .isInstanceOfSatisfying(UpgradeRejectedException.class, rejected -> {
            assertThat(rejected.getStatus()).isEqualTo(404);
            assertThat(rejected.getBody().toJsonObject().getString("code")).isEqualTo("not_found");
          });
    }
  }

  // ---- images, probes, page -----------------------------------------------------------

  @Test
  void imageProxyKeepsCacheHeadersAndAnswers304() throws Exception {
    String id = usWest.addRequest(history(1));

    HttpResponse<Buffer> image = get("/v1/images/" + id + "/0.png");
    HttpResponse<Buffer> again = Waits.await(AWAIT_S, http.get(port, "127.0.0.1", "/v1/images/" + id + "/0.png")
        .putHeader("If-None-Match", image.getHeader("ETag")).send());

    assertThat(image.statusCode()).isEqualTo(200);
    assertThat(image.getHeader("Content-Type")).isEqualTo("image/png");
    // Only its owner may fetch it: no shared cache may keep it for others.
    assertThat(image.getHeader("Cache-Control")).isEqualTo(FakeRegion.IMAGE_CACHE.replace("public", "private"));
    assertThat(image.getHeader("ETag")).isEqualTo("\"" + id + "-0\"");
    assertThat(image.body().getBytes()).isEqualTo(FakeRegion.PNG);
    assertThat(again.statusCode()).isEqualTo(304);
    assertThat(again.getHeader("ETag")).isEqualTo(image.getHeader("ETag"));
    assertThat(again.body()).isNull();
    assertError(get("/v1/images/" + id + "/7.png"), 404, "not_found", null);
    assertError(get("/v1/images/" + id + "/0.jpg"), 404, "not_found", null);
  }

  @Test
  void anImageOfARegionThatDoesNotAnswerComesFromTheRegionHoldingItsCopies() throws Exception {
    String copied = usWest.addRequest(history(1));
    String notCopied = usWest.addRequest(history(1));
    usEast.views.put(copied, usWest.views.get(copied)); // us-east holds copies of us-west's images (the ring)
    // The edge knows whose they are (it learns an owner from the submit, or here from a first read;
    // with a user database, from its index of generations), so it may serve them while us-west is down.
    assertThat(get("/v1/images/" + copied + "/0.png").statusCode()).isEqualTo(200);
    assertThat(get("/v1/generations/" + notCopied).statusCode()).isEqualTo(200);
    Waits.await(AWAIT_S, usWest.stop());

    HttpResponse<Buffer> image = get("/v1/images/" + copied + "/0.png");
    assertThat(image.statusCode()).isEqualTo(200);
    assertThat(image.body().getBytes()).isEqualTo(FakeRegion.PNG);
    assertThat(image.getHeader("ETag")).isEqualTo("\"" + copied + "-0\"");
    HttpResponse<Buffer> missing = get("/v1/images/" + notCopied + "/0.png");
    assertThat(missing.statusCode()).as("the origin may still have it: not a 404").isEqualTo(503);
    assertThat(missing.bodyAsJsonObject().getString("code")).isEqualTo("region_unavailable");
    assertThat(missing.getHeader("Retry-After")).isNotBlank();
  }

  @Test
  void imageProxyPassesRangesAndHead() throws Exception {
    String id = usWest.addRequest(history(1));
    String path = "/v1/images/" + id + "/0.png";

    HttpResponse<Buffer> part = Waits.await(AWAIT_S, http.get(port, "127.0.0.1", path).putHeader("Range", "bytes=2-5").send());
    assertThat(part.statusCode()).isEqualTo(206);
    assertThat(part.getHeader("Content-Range")).isEqualTo("bytes 2-5/" + FakeRegion.PNG.length);
    assertThat(part.getHeader("Accept-Ranges")).isEqualTo("bytes");
    assertThat(part.body().getBytes()).isEqualTo(java.util.Arrays.copyOfRange(FakeRegion.PNG, 2, 6));
    HttpResponse<Buffer> beyond = Waits.await(AWAIT_S, http.get(port, "127.0.0.1", path).putHeader("Range", "bytes=99-100").send());
    assertThat(beyond.statusCode()).isEqualTo(416);
    assertThat(beyond.getHeader("Content-Range")).isEqualTo("bytes */" + FakeRegion.PNG.length);
    HttpResponse<Buffer> head = Waits.await(AWAIT_S, http.head(port, "127.0.0.1", path).send());
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.getHeader("Content-Length")).isEqualTo(Integer.toString(FakeRegion.PNG.length));
    assertThat(head.getHeader("ETag")).isEqualTo("\"" + id + "-0\"");
  }

  @Test
  void inRedirectModeTheEdgeSendsAShortLivedLinkAndAnswers304ItselfForTheCurrentVersion() throws Exception {
    GenmeshConfig redirecting = ConfigLoader.defaults();
    redirecting = redirecting.withImages(redirecting.images().withEdgeDelivery(ImagesConfig.EdgeDelivery.REDIRECT));
    int redirectPort = startEdge(REGION_TIMEOUT_MS, 3_600_000L, redirecting);
    String id = usWest.addRequest(history(1));
    String path = "/v1/images/" + id + "/0.png";

    HttpResponse<Buffer> redirect = Waits.await(AWAIT_S, http.get(redirectPort, "127.0.0.1", path)
        .followRedirects(false).send());
    assertThat(redirect.statusCode()).isEqualTo(302);
    assertThat(redirect.getHeader("Location")).isEqualTo(usWest.url() + "/store/" + id + "/0.png?X-Amz-Signature=fake");
    assertThat(redirect.getHeader("Cache-Control")).isEqualTo("private, max-age=30");
    HttpResponse<Buffer> followed = Waits.await(AWAIT_S, http.get(redirectPort, "127.0.0.1", path).send());
    assertThat(followed.statusCode()).isEqualTo(200);
    assertThat(followed.body().getBytes()).isEqualTo(FakeRegion.PNG);
    HttpResponse<Buffer> current = Waits.await(AWAIT_S, http.get(redirectPort, "127.0.0.1", path)
        .putHeader("If-None-Match", "\"" + id + "-0\"").followRedirects(false).send());
    assertThat(current.statusCode()).isEqualTo(304);
    assertThat(current.getHeader("Cache-Control")).isEqualTo(FakeRegion.IMAGE_CACHE.replace("public", "private"));
    assertError(Waits.await(AWAIT_S, http.get(redirectPort, "127.0.0.1", "/v1/images/" + id + "/7.png").send()), 404,
        "not_found", null);
  }

  @Test
  void probesMetricsAndPage() throws Exception {
    post("{\"prompt\": \"a lighthouse\"}", null);

    HttpResponse<Buffer> live = get("/health/live");
    assertThat(live.statusCode()).isEqualTo(200);
    assertThat(live.bodyAsJsonObject().getJsonArray("checks").getJsonObject(0).getString("id")).isEqualTo("event_loop");
    HttpResponse<Buffer> ready = get("/health/ready");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.bodyAsJsonObject().getString("status")).isEqualTo("UP");
    assertThat(ready.bodyAsJsonObject().getJsonArray("checks").getJsonObject(0))
        .isEqualTo(new JsonObject().put("id", "regions").put("status", "UP").put("data", new JsonObject().put("healthy", 3)));
    assertThat(ready.bodyAsJsonObject().getJsonObject("regions").fieldNames()).containsExactlyInAnyOrder("us-west", "us-east", "eu-west");

    HttpResponse<Buffer> metrics = get("/metrics");
    assertThat(metrics.getHeader("Content-Type")).startsWith("text/plain");
    assertThat(metrics.bodyAsString())
        .contains("genmesh_edge_requests_total{")
        .contains("genmesh_edge_submit_time_seconds_count{outcome=\"accepted\"} 1")
        .contains("genmesh_edge_regions_healthy 3.0");

    HttpResponse<Buffer> page = get("/");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.getHeader("Content-Type")).startsWith("text/html");
    assertThat(page.bodyAsString()).contains("<form").contains("/assets/page.js").doesNotContain("http://", "https://");
    HttpResponse<Buffer> script = get("/assets/page.js");
    assertThat(script.statusCode()).isEqualTo(200);
    assertThat(script.getHeader("Content-Type")).contains("javascript");
    assertThat(script.bodyAsString()).contains("new WebSocket(").doesNotContain("http://", "https://");
    assertThat(get("/assets/nothing.js").statusCode()).isEqualTo(404);
  }

  @Test
  void notReadyWhenNoRegionIsHealthy() throws Exception {
    fakes.forEach(fake -> fake.submitStatus = 503); // storage_unavailable: the region cannot take anything
    post("{\"prompt\": \"marks every region unhealthy\"}", null);

    HttpResponse<Buffer> ready = get("/health/ready");

    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(ready.bodyAsJsonObject().getString("status")).isEqualTo("DOWN");
    assertThat(ready.bodyAsJsonObject().getJsonArray("checks").getJsonObject(0).getString("status")).isEqualTo("DOWN");
    assertThat(readyRegions()).containsOnly("unhealthy");
    assertThat(scrape()).contains("genmesh_edge_regions_healthy 0.0");
  }

  // ---- helpers ------------------------------------------------------------------------

  private static List<JsonObject> history(int steps) {
    List<JsonObject> events = new java.util.ArrayList<>();
    events.add(new JsonObject().put("type", "queued").put("position", 1));
    events.add(new JsonObject().put("type", "assigned").put("worker", "w-1").put("attempt", 1));
    for (int step = 1; step <= steps; step++) {
      events.add(new JsonObject().put("type", "step").put("step", step).put("total", steps).put("step_ms", 12.5));
    }
    events.add(new JsonObject().put("type", "completed").put("images", new JsonArray().add("/v1/images/x/0.png")));
    return events;
  }

  private static final class Stream {
    final List<JsonObject> frames = new CopyOnWriteArrayList<>();
    final Promise<Void> closed = Promise.promise();
    WebSocket socket;
  }

  private Stream openStream(WebSocketConnectOptions options) throws Exception {
    Stream stream = new Stream();
    // Handlers are set on the event loop as the socket opens, or early frames would be dropped.
    stream.socket = Waits.await(AWAIT_S, webSockets.connect(options.setHost("127.0.0.1").setPort(port)).map(socket -> {
      socket.textMessageHandler(text -> stream.frames.add(new JsonObject(text)));
      socket.closeHandler(v -> stream.closed.tryComplete());
      return socket;
    }));
    return stream;
  }

  private HttpResponse<Buffer> post(String body, String idempotencyKey) throws Exception {
    var request = http.post(port, "127.0.0.1", "/v1/generations").putHeader("Content-Type", "application/json");
    if (idempotencyKey != null) {
      request.putHeader("Idempotency-Key", idempotencyKey);
    }
    return Waits.await(AWAIT_S, request.sendBuffer(Buffer.buffer(body)));
  }

  private HttpResponse<Buffer> get(String path) throws Exception {
    return Waits.await(AWAIT_S, http.get(port, "127.0.0.1", path).send());
  }

  private String scrape() throws Exception {
    return get("/metrics").bodyAsString();
  }

  private JsonObject readyBody() throws Exception {
    return get("/health/ready").bodyAsJsonObject();
  }

  private List<String> readyRegions() {
    try {
      JsonObject regions = readyBody().getJsonObject("regions");
      return regions.fieldNames().stream().map(name -> regions.getJsonObject(name).getString("status")).toList();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static void assertError(HttpResponse<Buffer> response, int status, String code, String field) {
    assertThat(response.statusCode()).as("status of %s", response.bodyAsString()).isEqualTo(status);
    assertThat(response.getHeader("Content-Type")).startsWith("application/json");
    JsonObject body = response.bodyAsJsonObject();
    assertThat(body.getString("code")).isEqualTo(code);
    assertThat(body.getString("message")).isNotBlank();
    assertThat(body.getString("field")).isEqualTo(field);
  }

  /** Polls for an asynchronous effect; never used to wait out a policy's time. */
  private static void eventually(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(AWAIT_S);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(10);
    }
  }
}
