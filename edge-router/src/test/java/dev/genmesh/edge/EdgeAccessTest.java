package dev.genmesh.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.testkit.ManualClock;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import dev.genmesh.users.UserStore;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Object-level authorization at a real edge, with a real user database (embedded PostgreSQL) and
 * one fake region: two users see only their own requests, an admin sees all, revoked keys stop
 * working within the cache time, share links work for one image until they expire, and the admin
 * API answers JSON.
 */
@ExtendWith(StoresExtension.class)
class EdgeAccessTest {
  private static final long CACHE_MS = 300;
  private static final long S = 10;

  private Vertx vertx;
  private FakeRegion region;
  private UsersFixture fixture;
  private UserStore users;
  private WebClient http;
  private WebSocketClient webSockets;
  private final ManualClock clock = new ManualClock(Instant.parse("2026-12-07T12:00:00Z"));
  private int port;
  private GenmeshConfig config;
  private String alice;
  private String bob;
  private String admin;

  @BeforeEach
  void start(TestStores stores) {
    vertx = Vertx.vertx();
    region = Waits.await(S, new FakeRegion(vertx, "us-west", "usw").start());
    fixture = new UsersFixture(vertx, stores, region, users -> users.withCacheMs(CACHE_MS));
    config = fixture.config;
    users = fixture.users;
    alice = fixture.userWithKey("alice", false);
    bob = fixture.userWithKey("bob", false);
    admin = fixture.userWithKey("root", true);
    EdgeVerticle edge = fixture.deployEdge(vertx, config, clock);
    port = edge.actualPort();
    http = WebClient.create(vertx);
    webSockets = vertx.createWebSocketClient();
  }

  @AfterEach
  void stop() {
    fixture.close(vertx);
  }

  @Test
  void eachUserSeesOnlyTheirOwnAndAnAdminSeesAll() {
    String id = submit(alice, "fast").bodyAsJsonObject().getString("id");
    String unknown = "usw_" + "0".repeat(26);

    // Bob: the same 404 as for an id that does not exist, on every call about it.
    HttpResponse<Buffer> bobsView = call(HttpMethod.GET, "/v1/generations/" + id, bob);
    assertThat(bobsView.statusCode()).isEqualTo(404);
    assertThat(bobsView.bodyAsJsonObject().getString("message"))
        .isEqualTo(call(HttpMethod.GET, "/v1/generations/" + unknown, bob).bodyAsJsonObject().getString("message")
            .replace(unknown, id));
    HttpResponse<Buffer> bobsImage = call(HttpMethod.GET, "/v1/images/" + id + "/0.png", bob);
    assertThat(bobsImage.statusCode()).isEqualTo(404);
    assertThat(bobsImage.bodyAsJsonObject().getString("message")).isEqualTo("image 0 of generation " + id + " not found");
    assertThat(call(HttpMethod.HEAD, "/v1/images/" + id + "/0.png", bob).statusCode()).isEqualTo(404);
    assertThat(call(HttpMethod.DELETE, "/v1/generations/" + id, bob).statusCode()).isEqualTo(404);
    assertThat(region.views.get(id).getString("status")).as("bob's cancel reached nothing").isEqualTo("queued");
    assertThat(call(HttpMethod.POST, "/v1/images/" + id + "/0.png/share", bob).statusCode()).isEqualTo(404);
    assertThat(eventsStatus(id, bob)).isEqualTo(404);
    assertThat(eventsStatus(id, null)).as("no key at all").isEqualTo(401);

    // Alice and the admin: everything.
    assertThat(call(HttpMethod.GET, "/v1/generations/" + id, alice).bodyAsJsonObject().getString("user")).isEqualTo("alice");
    assertThat(call(HttpMethod.GET, "/v1/images/" + id + "/0.png", alice).statusCode()).isEqualTo(200);
    assertThat(call(HttpMethod.GET, "/v1/generations/" + id, admin).statusCode()).isEqualTo(200);
    region.events.put(id, List.of(new JsonObject().put("id", 1).put("type", "queued").put("request_id", id)));
    assertThat(eventsStatus(id, alice)).isEqualTo(101);
    assertThat(eventsStatus(id, admin)).isEqualTo(101);
    assertThat(listed(alice, null)).containsExactly(id);
    assertThat(listed(bob, null)).isEmpty();
    assertThat(listed(admin, "alice")).containsExactly(id);
    assertThat(call(HttpMethod.GET, "/v1/generations?user=alice", bob).statusCode()).isEqualTo(403);
    HttpResponse<Buffer> cancelled = call(HttpMethod.DELETE, "/v1/generations/" + id, alice);
    assertThat(cancelled.statusCode()).isEqualTo(200);
    assertThat(region.views.get(id).getString("status")).isEqualTo("cancelled");
  }

  @Test
  void whileItsRegionIsDownTheOwnerComesFromTheGenerationIndex() {
    String id = submit(alice, "fast").bodyAsJsonObject().getString("id");
    Waits.eventually(S, () -> listed(alice, null).contains(id), "the index has the request");
    // Another edge: it did not accept the request, so it does not know its owner.
    EdgeVerticle other = fixture.deployEdge(vertx, config, clock);
    port = other.actualPort();
    Waits.await(S, region.stop());

    // Alice passes the owner check and meets the region's outage; bob still gets the 404.
    HttpResponse<Buffer> alices = call(HttpMethod.GET, "/v1/images/" + id + "/0.png", alice);
    assertThat(alices.statusCode()).isEqualTo(503);
    assertThat(alices.bodyAsJsonObject().getString("code")).isEqualTo("region_unavailable");
    assertThat(call(HttpMethod.GET, "/v1/images/" + id + "/0.png", bob).statusCode()).isEqualTo(404);
    assertThat(call(HttpMethod.GET, "/v1/generations/" + id, bob).statusCode()).isEqualTo(404);
    // An id the index does not know either: the region's outage, to anyone.
    assertThat(call(HttpMethod.GET, "/v1/generations/usw_" + "1".repeat(26), bob).statusCode()).isEqualTo(503);
  }

  @Test
  void theListIsNewestFirstAPageAtATime() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ids.add(submit(alice, "relax").bodyAsJsonObject().getString("id"));
      Waits.eventually(S, () -> listed(alice, null).size() == ids.size(), "the index has every accepted submit");
    }

    JsonObject first = call(HttpMethod.GET, "/v1/generations?limit=2", alice).bodyAsJsonObject();
    String cursor = first.getString("next_cursor");
    JsonObject second = call(HttpMethod.GET, "/v1/generations?limit=2&cursor=" + cursor, alice).bodyAsJsonObject();

    assertThat(ids(first)).containsExactly(ids.get(2), ids.get(1));
    assertThat(ids(second)).containsExactly(ids.get(0));
    assertThat(second.getValue("next_cursor")).isNull();
    assertThat(call(HttpMethod.GET, "/v1/generations?limit=0", alice).bodyAsJsonObject().getString("field")).isEqualTo("limit");
    assertThat(call(HttpMethod.GET, "/v1/generations?cursor=garbage!", alice).statusCode()).isEqualTo(400);
  }

  @Test
  void aRevokedKeyOrDisabledUserIsRefusedWithinTheCacheTime() {
    assertThat(submit(bob, "fast").statusCode()).isEqualTo(202);
    String bobsKeyId = Waits.await(S, users.keys("bob")).get(0).id();

    // Revoked elsewhere (another edge, the CLI): this edge notices within its cache time.
    Waits.await(S, users.revokeKey(bobsKeyId));
    long revoked = System.nanoTime();
    Waits.eventually(S, 20, () -> call(HttpMethod.GET, "/v1/generations", bob).statusCode() == 401, "bob's key refused");
    assertThat(Duration.ofNanos(System.nanoTime() - revoked)).isLessThan(Duration.ofMillis(CACHE_MS + 5_000));
    int before = region.submits.size();
    HttpResponse<Buffer> refused = submit(bob, "fast");
    assertThat(refused.statusCode()).isEqualTo(401);
    assertThat(refused.bodyAsJsonObject().getString("code")).isEqualTo("unauthorized");
    assertThat(region.submits).hasSize(before);

    // Through this edge's admin API: refused at once, not after the cache time.
    String carol = issue("carol", false);
    assertThat(submit(carol, "fast").statusCode()).isEqualTo(202);
    String carolsKeyId = Waits.await(S, users.keys("carol")).get(0).id();
    assertThat(call(HttpMethod.DELETE, "/v1/admin/keys/" + carolsKeyId, admin).bodyAsJsonObject().getString("revoked_at"))
        .isNotNull();
    assertThat(submit(carol, "fast").statusCode()).isEqualTo(401);

    // A disabled user's keys stop too.
    assertThat(call(HttpMethod.POST, "/v1/admin/users/alice/disable", admin).bodyAsJsonObject().getBoolean("enabled"))
        .isFalse();
    assertThat(submit(alice, "fast").statusCode()).isEqualTo(401);
  }

  @Test
  void aShareLinkServesThatOneImageToAnyoneUntilItExpires() {
    String id = submit(alice, "fast").bodyAsJsonObject().getString("id");
    String other = submit(alice, "fast").bodyAsJsonObject().getString("id");

    HttpResponse<Buffer> shared = send(HttpMethod.POST, "/v1/images/" + id + "/0.png/share", alice,
        new JsonObject().put("ttl_s", 60));
    assertThat(shared.statusCode()).isEqualTo(201);
    String url = shared.bodyAsJsonObject().getString("url");
    assertThat(shared.bodyAsJsonObject().getString("expires_at")).isEqualTo("2026-12-07T12:01:00Z");

    HttpResponse<Buffer> image = call(HttpMethod.GET, url, null);
    assertThat(image.statusCode()).isEqualTo(200);
    assertThat(image.body().getBytes()).isEqualTo(FakeRegion.PNG);
    assertThat(image.getHeader("Cache-Control")).isEqualTo("public, max-age=60");
    assertThat(call(HttpMethod.GET, url, bob).statusCode()).as("with anyone's key, too").isEqualTo(200);
    assertThat(call(HttpMethod.GET, url.replace("/0.png", "/1.png"), null).statusCode()).as("another image").isEqualTo(404);
    assertThat(call(HttpMethod.GET, url.replace(id, other), null).statusCode()).as("another request").isEqualTo(404);
    assertThat(call(HttpMethod.GET, url.replaceAll("expires=\\d+", "expires=9999999999"), null).statusCode())
        .as("a longer life").isEqualTo(404);
    assertThat(call(HttpMethod.GET, "/v1/images/" + id + "/0.png", null).statusCode()).as("the owner's URL").isEqualTo(401);
    assertThat(send(HttpMethod.POST, "/v1/images/" + id + "/0.png/share", alice, new JsonObject().put("ttl_s", 0))
        .bodyAsJsonObject().getString("field")).isEqualTo("ttl_s");

    clock.advance(Duration.ofSeconds(59));
    assertThat(call(HttpMethod.GET, url, null).statusCode()).isEqualTo(200);
    clock.advance(Duration.ofSeconds(1));
    HttpResponse<Buffer> expired = call(HttpMethod.GET, url, null);
    assertThat(expired.statusCode()).isEqualTo(403);
    assertThat(expired.bodyAsJsonObject().getString("code")).isEqualTo("forbidden");
  }

  @Test
  void theAdminApiNeedsAnAdminKeyAndAnswersJson() {
    assertThat(call(HttpMethod.GET, "/v1/admin/users", null).statusCode()).isEqualTo(401);
    HttpResponse<Buffer> notAdmin = call(HttpMethod.GET, "/v1/admin/users", alice);
    assertThat(notAdmin.statusCode()).isEqualTo(403);
    assertThat(notAdmin.bodyAsJsonObject().getString("code")).isEqualTo("forbidden");

    HttpResponse<Buffer> added = send(HttpMethod.POST, "/v1/admin/users", admin,
        new JsonObject().put("id", "dave").put("tiers", new JsonArray().add("relax")));
    assertThat(added.statusCode()).isEqualTo(201);
    assertThat(send(HttpMethod.POST, "/v1/admin/users", admin, new JsonObject().put("id", "dave")).bodyAsJsonObject()
        .getString("code")).isEqualTo("conflict");
    assertThat(send(HttpMethod.POST, "/v1/admin/users", admin, new JsonObject().put("id", "Dave Smith")).statusCode())
        .isEqualTo(400);
    assertThat(call(HttpMethod.POST, "/v1/admin/users", admin).bodyAsJsonObject().getString("code")).isEqualTo("invalid_json");
    assertThat(call(HttpMethod.POST, "/v1/admin/users/nobody/disable", admin).statusCode()).isEqualTo(404);
    assertThat(call(HttpMethod.GET, "/v1/admin/users", admin).bodyAsJsonObject().getJsonArray("users").size()).isEqualTo(4);

    String dave = issue("dave", false);
    int before = region.submits.size();
    HttpResponse<Buffer> turbo = submit(dave, "turbo");
    assertThat(turbo.statusCode()).as("dave may use relax only").isEqualTo(403);
    assertThat(turbo.bodyAsJsonObject().getString("field")).isEqualTo("tier");
    assertThat(region.submits).hasSize(before);
    assertThat(submit(dave, "relax").statusCode()).isEqualTo(202);
    JsonArray keys = call(HttpMethod.GET, "/v1/admin/keys?user=dave", admin).bodyAsJsonObject().getJsonArray("keys");
    assertThat(keys.size()).isEqualTo(1);
    assertThat(keys.encode()).doesNotContain(dave).doesNotContain(dave.substring(20));
  }

  private String issue(String user, boolean asAdmin) {
    if (Waits.await(S, users.user(user)).isEmpty()) {
      assertThat(send(HttpMethod.POST, "/v1/admin/users", admin, new JsonObject().put("id", user)).statusCode()).isEqualTo(201);
    }
    HttpResponse<Buffer> issued = send(HttpMethod.POST, "/v1/admin/keys", admin,
        new JsonObject().put("user", user).put("admin", asAdmin));
    assertThat(issued.statusCode()).isEqualTo(201);
    return issued.bodyAsJsonObject().getString("key");
  }

  private HttpResponse<Buffer> submit(String key, String tier) {
    return send(HttpMethod.POST, "/v1/generations", key, new JsonObject().put("prompt", "a cat").put("tier", tier));
  }

  private List<String> listed(String key, String user) {
    return ids(call(HttpMethod.GET, "/v1/generations" + (user == null ? "" : "?user=" + user), key).bodyAsJsonObject());
  }

  private static List<String> ids(JsonObject page) {
    return page.getJsonArray("generations").stream().map(g -> ((JsonObject) g).getString("id")).toList();
  }

  private int eventsStatus(String id, String key) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
        .setURI("/v1/generations/" + id + "/events");
    if (key != null) {
      options.addHeader("Authorization", "Bearer " + key);
    }
    try {
      Waits.await(S, webSockets.connect(options).compose(ws -> ws.close()));
      return 101;
    } catch (AssertionError refused) {
      Throwable cause = refused.getCause();
      return cause instanceof UpgradeRejectedException rejected ? rejected.getStatus() : -1;
    }
  }

  private HttpResponse<Buffer> call(HttpMethod method, String path, String key) {
    return Waits.await(S, request(method, path, key).send());
  }

  private HttpResponse<Buffer> send(HttpMethod method, String path, String key, JsonObject body) {
    return Waits.await(S, request(method, path, key).sendJsonObject(body));
  }

  private HttpRequest<Buffer> request(HttpMethod method, String path, String key) {
    HttpRequest<Buffer> request = http.request(method, port, "127.0.0.1", path);
    if (key != null) {
      request.putHeader("Authorization", "Bearer " + key);
    }
    return request;
  }
}
