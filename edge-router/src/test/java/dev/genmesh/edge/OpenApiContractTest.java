package dev.genmesh.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.testkit.ManualClock;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import dev.genmesh.users.UserStore;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * openapi.yaml is the contract of the edge's public API: a real edge (keys required, a user
 * database in embedded PostgreSQL, one {@link FakeRegion}) is driven through every operation of
 * the document and through most of their declared statuses, and every answer (status, content
 * type, required headers, JSON body; each WebSocket frame) is checked against the document. The
 * router's routes and the document's operations must be the same set. And the checks do fail when
 * the edge drifts: a route the document lacks, a field it does not allow, a status it does not
 * declare.
 */
@ExtendWith(StoresExtension.class)
class OpenApiContractTest {
  private static final long S = 10;
  /** Not part of the public contract: the failover observers' internal endpoints (failover/README.md). */
  private static final Predicate<String> INTERNAL = path -> path.startsWith("/failover/");

  private final OpenApiSpec spec = OpenApiSpec.load();
  private final ManualClock clock = new ManualClock(Instant.parse("2026-12-07T12:00:00Z"));
  private final List<String> problems = new CopyOnWriteArrayList<>();
  private final Map<String, Set<Integer>> seen = new TreeMap<>();
  private Vertx vertx;
  private FakeRegion region;
  private UsersFixture fixture;
  private UserStore users;
  private EdgeVerticle edge;
  private WebClient http;
  private WebSocketClient webSockets;
  private String alice;
  private String relaxOnly;
  private String admin;

  @BeforeEach
  void start(TestStores stores) {
    vertx = Vertx.vertx();
    region = Waits.await(S, new FakeRegion(vertx, "us-west", "usw").start());
    fixture = new UsersFixture(vertx, stores, region, u -> u);
    GenmeshConfig config = fixture.config.withEdge(fixture.config.edge()
        .withOpenAi(fixture.config.edge().openai().withTimeoutMs(1_000)));
    users = fixture.users;
    alice = fixture.userWithKey("alice", false);
    admin = fixture.userWithKey("root", true);
    relaxOnly = Waits.await(S, users.issueKey("alice", List.of("relax"), false)).secret();
    edge = fixture.deployEdge(vertx, config, clock);
    http = WebClient.create(vertx);
    webSockets = vertx.createWebSocketClient();
  }

  @AfterEach
  void stop() {
    fixture.close(vertx);
  }

  @Test
  void theRoutesOfTheEdgeAreTheOperationsOfTheDocument() {
    Set<String> routes = OpenApiSpec.routes(edge.router(), INTERNAL);
    assertThat(routes).as("routes of the edge (left) vs operations of openapi.yaml").isEqualTo(spec.operations());
  }

  @Test
  void everyAnswerKeepsTheContract() {
    generations();
    images();
    accountAndAdmin();
    openAi();
    operations();
    regionGone();

    assertThat(problems).as("answers that break openapi.yaml").isEmpty();
    Set<String> untouched = new TreeSet<>(spec.operations());
    untouched.removeAll(seen.keySet());
    assertThat(untouched).as("operations the test never called").isEmpty();
    seen.forEach((operation, statuses) -> assertThat(statuses).as(operation).anyMatch(s -> s < 400));
    // What is declared but not driven here (rate limits need Redis, redirects another delivery
    // mode...): printed, so that the gap stays visible.
    for (String operation : spec.operations()) {
      Set<Integer> declared = new TreeSet<>(spec.statuses(operation));
      declared.removeAll(seen.getOrDefault(operation, Set.of()));
      if (!declared.isEmpty()) {
        System.out.println("contract: " + operation + " declares " + declared + ", not driven by this test");
      }
    }
  }

  @Test
  void theChecksFailWhenTheEdgeDrifts() {
    // A route the document lacks (or that the edge gained).
    Set<String> routes = OpenApiSpec.routes(edge.router(), INTERNAL);
    assertThat(spec.without("/v1/usage").operations()).isNotEqualTo(routes);
    edge.router().get("/v1/extra").handler(ctx -> ctx.response().end());
    assertThat(OpenApiSpec.routes(edge.router(), INTERNAL)).contains("GET /v1/extra").isNotEqualTo(spec.operations());

    // A field the document does not allow, a required field gone, a status it does not declare.
    HttpResponse<Buffer> accepted = send(HttpMethod.POST, "/v1/generations", alice, new JsonObject().put("prompt", "a cat"));
    assertThat(spec.check("POST", "/v1/generations", 202, accepted.headers(), accepted.body())).isEmpty();
    Buffer extra = accepted.bodyAsJsonObject().put("surprise", 1).toBuffer();
    assertThat(spec.check("POST", "/v1/generations", 202, accepted.headers(), extra)).singleElement()
        .asString().contains("does not match its schema").contains("surprise");
    HttpResponse<Buffer> missing = call(HttpMethod.GET, "/v1/generations/usw_" + "0".repeat(26), alice);
    Buffer noMessage = missing.bodyAsJsonObject().copy().put("message", (String) null).toBuffer();
    assertThat(spec.check("GET", "/v1/generations/{id}", 404, missing.headers(), noMessage)).isNotEmpty();
    assertThat(spec.check("GET", "/v1/generations/{id}", 418, missing.headers(), missing.body())).singleElement()
        .asString().contains("status not declared");
    MultiMap noRetryAfter = MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/json");
    assertThat(spec.check("POST", "/v1/generations", 503, noRetryAfter, missing.body())).singleElement()
        .asString().contains("Retry-After");
    MultiMap html = MultiMap.caseInsensitiveMultiMap().add("Content-Type", "text/html");
    assertThat(spec.check("GET", "/v1/usage", 200, html, Buffer.buffer("<p>"))).singleElement()
        .asString().contains("content type");
  }

  private void generations() {
    JsonObject cat = new JsonObject().put("prompt", "a cat");
    String id = expect(202, HttpMethod.POST, "/v1/generations", "/v1/generations", alice, cat, Map.of())
        .bodyAsJsonObject().getString("id");
    expect(400, HttpMethod.POST, "/v1/generations", "/v1/generations", alice, new JsonObject().put("tier", "fast"), Map.of());
    expect(401, HttpMethod.POST, "/v1/generations", "/v1/generations", "not-a-key", cat, Map.of());
    expect(403, HttpMethod.POST, "/v1/generations", "/v1/generations", relaxOnly, cat.copy().put("tier", "turbo"), Map.of());
    expect(413, HttpMethod.POST, "/v1/generations", "/v1/generations", alice, cat.copy().put("prompt", "x".repeat(9000)), Map.of());
    // The region keeps idempotency keys; its 422 for a key reused with another body is passed on.
    region.submitStatus = 422;
    region.submitErrorCode = "idempotency_key_reused";
    expect(422, HttpMethod.POST, "/v1/generations", "/v1/generations", alice, cat, Map.of("Idempotency-Key", "k1"));
    region.submitStatus = 500;
    region.submitErrorCode = "internal";
    expect(500, HttpMethod.POST, "/v1/generations", "/v1/generations", alice, cat, Map.of());
    region.submitStatus = 503;
    region.submitErrorCode = "storage_unavailable";
    expect(503, HttpMethod.POST, "/v1/generations", "/v1/generations", alice, cat, Map.of());
    region.submitStatus = 202;

    expect(200, HttpMethod.GET, "/v1/generations", "/v1/generations", alice, null, Map.of());
    expect(400, HttpMethod.GET, "/v1/generations", "/v1/generations?limit=0", alice, null, Map.of());
    expect(401, HttpMethod.GET, "/v1/generations", "/v1/generations", "not-a-key", null, Map.of());
    expect(403, HttpMethod.GET, "/v1/generations", "/v1/generations?user=root", alice, null, Map.of());

    String unknown = "usw_" + "0".repeat(26);
    expect(200, HttpMethod.GET, "/v1/generations/{id}", "/v1/generations/" + id, alice, null, Map.of());
    expect(404, HttpMethod.GET, "/v1/generations/{id}", "/v1/generations/" + unknown, alice, null, Map.of());
    expect(401, HttpMethod.GET, "/v1/generations/{id}", "/v1/generations/" + id, null, null, Map.of());

    region.events.put(id, history(id));
    List<JsonObject> frames = events(id, alice);
    assertThat(frames).hasSize(4);
    frames.forEach(frame -> problems.addAll(spec.checkSchema("/components/schemas/ProgressEvent", frame)));
    seen("GET /v1/generations/{id}/events", 101);
    expect(404, HttpMethod.GET, "/v1/generations/{id}/events", "/v1/generations/" + unknown + "/events", alice, null, Map.of());
    expect(401, HttpMethod.GET, "/v1/generations/{id}/events", "/v1/generations/" + id + "/events", null, null, Map.of());
    expect(400, HttpMethod.GET, "/v1/generations/{id}/events", "/v1/generations/" + id + "/events", alice, null, Map.of());

    String other = send(HttpMethod.POST, "/v1/generations", alice, cat).bodyAsJsonObject().getString("id");
    expect(200, HttpMethod.DELETE, "/v1/generations/{id}", "/v1/generations/" + other, alice, null, Map.of());
    expect(409, HttpMethod.DELETE, "/v1/generations/{id}", "/v1/generations/" + other, alice, null, Map.of());
    expect(404, HttpMethod.DELETE, "/v1/generations/{id}", "/v1/generations/" + unknown, alice, null, Map.of());
  }

  private void images() {
    String id = send(HttpMethod.POST, "/v1/generations", alice, new JsonObject().put("prompt", "a cat"))
        .bodyAsJsonObject().getString("id");
    String image = "/v1/images/" + id + "/0.png";
    String template = "/v1/images/{id}/{file}";
    HttpResponse<Buffer> whole = expect(200, HttpMethod.GET, template, image, alice, null, Map.of());
    expect(304, HttpMethod.GET, template, image, alice, null, Map.of("If-None-Match", whole.getHeader("ETag")));
    expect(206, HttpMethod.GET, template, image, alice, null, Map.of("Range", "bytes=0-3"));
    expect(416, HttpMethod.GET, template, image, alice, null, Map.of("Range", "bytes=100-200"));
    expect(404, HttpMethod.GET, template, "/v1/images/" + id + "/1.png", alice, null, Map.of());
    expect(401, HttpMethod.GET, template, image, null, null, Map.of());
    expect(200, HttpMethod.HEAD, template, image, alice, null, Map.of());
    expect(404, HttpMethod.HEAD, template, "/v1/images/" + id + "/1.png", alice, null, Map.of());

    String share = "/v1/images/{id}/{file}/share";
    String url = expect(201, HttpMethod.POST, share, image + "/share", alice, new JsonObject().put("ttl_s", 60), Map.of())
        .bodyAsJsonObject().getString("url");
    expect(400, HttpMethod.POST, share, image + "/share", alice, new JsonObject().put("ttl_s", 0), Map.of());
    expect(404, HttpMethod.POST, share, "/v1/images/usw_" + "0".repeat(26) + "/0.png/share", alice, null, Map.of());
    expect(401, HttpMethod.POST, share, image + "/share", null, null, Map.of());

    String shared = "/v1/shared/{id}/{file}";
    expect(200, HttpMethod.GET, shared, url, null, null, Map.of());
    expect(200, HttpMethod.HEAD, shared, url, null, null, Map.of());
    expect(404, HttpMethod.GET, shared, url.replace("/0.png", "/1.png"), null, null, Map.of());
    clock.advance(Duration.ofSeconds(61));
    expect(403, HttpMethod.GET, shared, url, null, null, Map.of());
    expect(403, HttpMethod.HEAD, shared, url, null, null, Map.of());
  }

  private void accountAndAdmin() {
    expect(200, HttpMethod.GET, "/v1/usage", "/v1/usage", alice, null, Map.of());
    expect(401, HttpMethod.GET, "/v1/usage", "/v1/usage", "not-a-key", null, Map.of());

    expect(200, HttpMethod.GET, "/v1/admin/users", "/v1/admin/users", admin, null, Map.of());
    expect(403, HttpMethod.GET, "/v1/admin/users", "/v1/admin/users", alice, null, Map.of());
    expect(401, HttpMethod.GET, "/v1/admin/users", "/v1/admin/users", null, null, Map.of());
    JsonObject carol = new JsonObject().put("id", "carol").put("tiers", new JsonArray().add("relax"));
    expect(201, HttpMethod.POST, "/v1/admin/users", "/v1/admin/users", admin, carol, Map.of());
    expect(409, HttpMethod.POST, "/v1/admin/users", "/v1/admin/users", admin, carol, Map.of());
    expect(400, HttpMethod.POST, "/v1/admin/users", "/v1/admin/users", admin, new JsonObject().put("id", "Not Valid"), Map.of());
    String keyId = expect(201, HttpMethod.POST, "/v1/admin/keys", "/v1/admin/keys", admin,
        new JsonObject().put("user", "carol"), Map.of()).bodyAsJsonObject().getString("id");
    expect(404, HttpMethod.POST, "/v1/admin/keys", "/v1/admin/keys", admin, new JsonObject().put("user", "nobody"), Map.of());
    expect(200, HttpMethod.GET, "/v1/admin/keys", "/v1/admin/keys?user=carol", admin, null, Map.of());
    expect(200, HttpMethod.DELETE, "/v1/admin/keys/{key}", "/v1/admin/keys/" + keyId, admin, null, Map.of());
    expect(404, HttpMethod.DELETE, "/v1/admin/keys/{key}", "/v1/admin/keys/nokey", admin, null, Map.of());
    expect(200, HttpMethod.POST, "/v1/admin/users/{user}/disable", "/v1/admin/users/carol/disable", admin, null, Map.of());
    expect(404, HttpMethod.POST, "/v1/admin/users/{user}/disable", "/v1/admin/users/nobody/disable", admin, null, Map.of());
  }

  private void openAi() {
    String path = "/v1/images/generations";
    JsonObject ask = new JsonObject().put("prompt", "a cat").put("size", "256x256");
    expect(504, HttpMethod.POST, path, path, alice, ask, Map.of()); // the fake region never completes it
    region.completeOnSubmit = true;
    JsonArray data = expect(200, HttpMethod.POST, path, path, alice, ask.copy().put("n", 2), Map.of())
        .bodyAsJsonObject().getJsonArray("data");
    assertThat(data).hasSize(2);
    expect(200, HttpMethod.POST, path, path, alice, ask.copy().put("response_format", "b64_json"), Map.of());
    expect(400, HttpMethod.POST, path, path, alice, ask.copy().put("model", "no-such-model"), Map.of());
    expect(400, HttpMethod.POST, path, path, alice, ask.copy().put("size", "100x100"), Map.of());
    expect(401, HttpMethod.POST, path, path, "not-a-key", ask, Map.of());
    expect(403, HttpMethod.POST, path, path, relaxOnly, ask, Map.of("X-Genmesh-Tier", "turbo"));
    expect(200, HttpMethod.POST, path, path, relaxOnly, ask, Map.of());
    region.completeOnSubmit = false;
  }

  private void operations() {
    for (String path : List.of("/openapi.yaml", "/docs", "/", "/ops", "/health/live", "/health/ready", "/metrics",
        "/v1/models")) {
      expect(200, HttpMethod.GET, path, path, null, null, Map.of());
    }
    opsConsole();
    // The reference page's own files come from the webjar, on this edge.
    assertThat(call(HttpMethod.GET, "/docs/assets/swagger-ui-bundle.js", null).statusCode()).isEqualTo(200);
  }

  /** The console's data: admin only; the fake region has none of the internal views (errors, not failures). */
  private void opsConsole() {
    for (String path : List.of("/v1/admin/ops/snapshot", "/v1/admin/ops/history", "/v1/admin/ops/stream")) {
      expect(401, HttpMethod.GET, path, path, "gmk_not_a_key", null, Map.of());
      expect(403, HttpMethod.GET, path, path, alice, null, Map.of());
    }
    Waits.eventually(S, () -> call(HttpMethod.GET, "/v1/admin/ops/snapshot", admin).statusCode() == 200, "a first ops sample");
    expect(200, HttpMethod.GET, "/v1/admin/ops/snapshot", "/v1/admin/ops/snapshot", admin, null, Map.of());
    expect(200, HttpMethod.GET, "/v1/admin/ops/history", "/v1/admin/ops/history", admin, null, Map.of());
    // A stream never ends: its head and first event, read raw.
    Promise<Buffer> first = Promise.promise();
    HttpClientResponse stream = Waits.await(S, vertx.createHttpClient()
        .request(HttpMethod.GET, edge.actualPort(), "127.0.0.1", "/v1/admin/ops/stream")
        .compose(req -> req.putHeader("Authorization", "Bearer " + admin).send())
        .map(response -> response.handler(first::tryComplete)));
    assertThat(stream.statusCode()).isEqualTo(200);
    assertThat(stream.getHeader("Content-Type")).startsWith("text/event-stream");
    assertThat(Waits.await(S, first.future()).toString()).startsWith("event: history\ndata: {");
    seen("GET /v1/admin/ops/stream", 200);
  }

  /** The region stops answering: every call about one of its requests is a 503 with Retry-After. */
  private void regionGone() {
    String id = send(HttpMethod.POST, "/v1/generations", admin, new JsonObject().put("prompt", "a cat"))
        .bodyAsJsonObject().getString("id");
    String other = region.addRequest(history("x"));
    Waits.await(S, region.stop());
    // alice never saw `other`: the edge must ask the region who owns it, and cannot.
    expect(503, HttpMethod.GET, "/v1/generations/{id}", "/v1/generations/" + other, alice, null, Map.of());
    expect(503, HttpMethod.DELETE, "/v1/generations/{id}", "/v1/generations/" + other, alice, null, Map.of());
    expect(503, HttpMethod.GET, "/v1/generations/{id}/events", "/v1/generations/" + other + "/events", alice, null, Map.of());
    expect(503, HttpMethod.GET, "/v1/images/{id}/{file}", "/v1/images/" + other + "/0.png", alice, null, Map.of());
    expect(503, HttpMethod.HEAD, "/v1/images/{id}/{file}", "/v1/images/" + other + "/0.png", alice, null, Map.of());
    expect(503, HttpMethod.POST, "/v1/images/{id}/{file}/share", "/v1/images/" + other + "/0.png/share", alice, null,
        Map.of());
    // The admin needs no owner: the call itself reaches the region, and cannot.
    expect(503, HttpMethod.GET, "/v1/generations/{id}", "/v1/generations/" + id, admin, null, Map.of());
    expect(503, HttpMethod.POST, "/v1/images/generations", "/v1/images/generations", alice,
        new JsonObject().put("prompt", "a cat"), Map.of());
  }

  /** Calls the edge, checks the status is {@code status} and that the answer keeps the contract. */
  private HttpResponse<Buffer> expect(int status, HttpMethod method, String template, String path, String key,
      JsonObject body, Map<String, String> headers) {
    HttpRequest<Buffer> request = request(method, path, key);
    headers.forEach(request::putHeader);
    HttpResponse<Buffer> response = Waits.await(S, body == null ? request.send() : request.sendJsonObject(body));
    assertThat(response.statusCode()).as(method + " " + path + ": " + response.bodyAsString()).isEqualTo(status);
    problems.addAll(spec.check(method.name(), template, status, response.headers(), response.body()));
    seen(method.name() + " " + template, status);
    return response;
  }

  private void seen(String operation, int status) {
    seen.computeIfAbsent(operation, o -> new TreeSet<>()).add(status);
  }

  private static List<JsonObject> history(String id) {
    String now = Instant.now().toString();
    return List.of(
        new JsonObject().put("id", 1).put("request_id", id).put("type", "queued").put("time", now)
            .put("queue_position", 1).put("position", 1).putNull("eta_ms"),
        new JsonObject().put("id", 2).put("request_id", id).put("type", "assigned").put("time", now)
            .put("worker", "w-1").put("attempt", 1),
        new JsonObject().put("id", 3).put("request_id", id).put("type", "step").put("time", now)
            .put("step", 1).put("total", 1).put("step_ms", 12),
        new JsonObject().put("id", 4).put("request_id", id).put("type", "completed").put("time", now)
            .put("images", new JsonArray().add("/v1/images/" + id + "/0.png"))
            .put("safety", new JsonObject().put("verdict", "allow").put("reasons", new JsonArray())));
  }

  private List<JsonObject> events(String id, String key) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(edge.actualPort())
        .setURI("/v1/generations/" + id + "/events").addHeader("Authorization", "Bearer " + key);
    List<JsonObject> frames = new ArrayList<>();
    Promise<Void> closed = Promise.promise();
    Waits.await(S, webSockets.connect(options).map(ws -> {
      ws.textMessageHandler(text -> frames.add(new JsonObject(text)));
      ws.closeHandler(v -> closed.tryComplete());
      return ws;
    }));
    Waits.await(S, closed.future());
    return frames;
  }

  private HttpResponse<Buffer> call(HttpMethod method, String path, String key) {
    return Waits.await(S, request(method, path, key).send());
  }

  private HttpResponse<Buffer> send(HttpMethod method, String path, String key, JsonObject body) {
    return Waits.await(S, request(method, path, key).sendJsonObject(body));
  }

  private HttpRequest<Buffer> request(HttpMethod method, String path, String key) {
    HttpRequest<Buffer> request = http.request(method, edge.actualPort(), "127.0.0.1", path);
    if (key != null) {
      request.putHeader("Authorization", "Bearer " + key);
    }
    return request;
  }
}
