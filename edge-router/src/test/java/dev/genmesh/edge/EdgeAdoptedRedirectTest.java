package dev.genmesh.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.edge.regions.impl.AdoptionRedirects;
import dev.genmesh.edge.regions.impl.RegionClient;
import dev.genmesh.edge.regions.impl.RegionDirectory;
import dev.genmesh.testkit.ManualClock;
import dev.genmesh.testkit.Waits;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * After fail-back, a returned region answers the ids its peer adopted with a 307 to the adopter
 * (region-node's FailoverRoutes; its own AdoptionTest checks that answer). The edge follows it
 * once, to a region it knows, with the caller's ownership check unchanged: status, events, images
 * and cancel come from the adopter. A 307 to anywhere else, or a second hop, is not followed.
 * The regions are {@link FakeRegion}s (real HTTP servers answering the 307 the way the real node
 * does): edge-router may not depend on region-node (ModuleRules), and the launcher's process tests
 * cover adoption with real nodes.
 */
class EdgeAdoptedRedirectTest {
  private static final String ALICE = "alice-key";
  private static final String BOB = "bob-key";

  private final TestEdge edge = new TestEdge(e -> e.withApiKeys(true, Map.of("alice", sha(ALICE), "bob", sha(BOB))));
  private final WebSocketClient webSockets = edge.vertx.createWebSocketClient();
  private final List<JsonObject> history = history();

  @AfterEach
  void close() {
    edge.close();
  }

  @Test
  void statusEventsImagesAndCancelOfAnAdoptedIdComeFromTheAdopterForItsOwnerOnly() {
    String id = adopted(edge.usWest, edge.usEast, "us-east", edge.usEast.url());

    assertThat(get("/v1/generations/" + id, BOB).statusCode()).as("not bob's: 404, as before").isEqualTo(404);
    HttpResponse<Buffer> view = get("/v1/generations/" + id, ALICE);
    assertThat(view.statusCode()).isEqualTo(200);
    assertThat(view.bodyAsJsonObject().getString("region")).isEqualTo("us-east");

    HttpResponse<Buffer> image = get("/v1/images/" + id + "/0.png", ALICE);
    assertThat(image.statusCode()).isEqualTo(200);
    assertThat(image.body().getBytes()).isEqualTo(FakeRegion.PNG);

    List<Long> ids = new CopyOnWriteArrayList<>();
    AtomicReference<Short> closedWith = new AtomicReference<>();
    Waits.await(TestEdge.AWAIT_S, webSockets.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(edge.port)
        .setURI("/v1/generations/" + id + "/events").addHeader("Authorization", "Bearer " + ALICE)).map(socket -> {
          socket.textMessageHandler(text -> ids.add(new JsonObject(text).getLong("id")));
          socket.closeHandler(v -> closedWith.set(socket.closeStatusCode()));
          return socket;
        }));
    Waits.eventually(TestEdge.AWAIT_S, () -> closedWith.get() != null, "the stream to end");
    assertThat(closedWith.get()).isEqualTo((short) 1000);
    assertThat(ids).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(edge.usEast.streamAfters).containsExactly(0L);

    HttpResponse<Buffer> cancelled = Waits.await(TestEdge.AWAIT_S, edge.http.delete(edge.port, "127.0.0.1", "/v1/generations/" + id)
        .putHeader("Authorization", "Bearer " + ALICE).send());
    assertThat(cancelled.statusCode()).isEqualTo(200);
    assertThat(edge.usEast.views.get(id).getString("status")).isEqualTo("cancelled");
    assertThat(edge.usWest.views.get(id).getString("status")).as("the returned region's row is left alone").isEqualTo("completed");
    assertThat(edge.scrape()).contains("genmesh_edge_adoption_redirects_total{outcome=\"followed\"} 1.0");
  }

  @Test
  void aRedirectToAnUnknownPlaceOrASecondHopIsNotFollowed() {
    FakeRegion stranger = Waits.await(TestEdge.AWAIT_S, new FakeRegion(edge.vertx, "nowhere", "use").start());
    String elsewhere = adopted(edge.usWest, stranger, "nowhere", stranger.url());
    String twoHops = adopted(edge.usWest, edge.usEast, "us-east", edge.usEast.url());
    edge.usEast.adoptedBy.put(twoHops, List.of("eu-west", edge.euWest.url()));
    edge.euWest.adopt(twoHops, history);
    int euWestCalls = edge.euWest.requests.get();

    for (String id : List.of(elsewhere, twoHops)) {
      for (String path : List.of("/v1/generations/" + id, "/v1/generations/" + id + "/events")) {
        HttpResponse<Buffer> answer = Waits.await(TestEdge.AWAIT_S, edge.http.get(edge.port, "127.0.0.1", path)
            .putHeader("Authorization", "Bearer " + ALICE).putHeader("Upgrade", "websocket").putHeader("Connection", "Upgrade")
            .putHeader("Sec-WebSocket-Version", "13").putHeader("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==").send());
        assertThat(answer.statusCode()).as(path).isEqualTo(503);
        assertThat(answer.bodyAsJsonObject().getString("code")).isEqualTo("region_unavailable");
      }
    }
    assertThat(stranger.requests.get()).as("the edge never calls a Location it does not know").isZero();
    assertThat(edge.euWest.requests.get()).as("one hop only").isEqualTo(euWestCalls);
    assertThat(edge.scrape()).contains("genmesh_edge_adoption_redirects_total{outcome=\"refused\"}")
        .contains("genmesh_edge_adoption_redirects_total{outcome=\"second_hop\"}");
    Waits.await(TestEdge.AWAIT_S, stranger.stop());
  }

  /** Each call follows the 307 by itself (not only through the memory), and the memory fades. */
  @Test
  void everyCallFollowsOnceAndTheAdopterIsRememberedBriefly() {
    GenmeshConfig defaults = ConfigLoader.defaults();
    Map<String, RegionConfig> regions = new HashMap<>();
    edge.fakes.forEach(fake -> regions.put(fake.name, defaults.region(fake.name).withApiUrl(fake.url())));
    WebClient web = WebClient.create(edge.vertx);
    ManualClock clock = new ManualClock();
    RegionDirectory directory = RegionDirectory.of(regions, r -> new RegionClient(r, web, webSockets, 5_000))
        .followingAdoptions(new AdoptionRedirects(clock, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)));
    RegionClient usWest = directory.byName("us-west");

    String viewed = adopted(edge.usWest, edge.usEast, "us-east", edge.usEast.url());
    assertThat(Waits.await(5, usWest.view(viewed)).bodyAsJsonObject().getString("region")).isEqualTo("us-east");
    String cancelled = adopted(edge.usWest, edge.usEast, "us-east", edge.usEast.url());
    assertThat(Waits.await(5, usWest.cancel(cancelled)).bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
    String pictured = adopted(edge.usWest, edge.usEast, "us-east", edge.usEast.url());
    assertThat(Waits.await(5, usWest.image(HttpMethod.GET, pictured, 0, MultiMap.caseInsensitiveMultiMap())).body().getBytes())
        .isEqualTo(FakeRegion.PNG);
    String linked = adopted(edge.usWest, edge.usEast, "us-east", "http://127.0.0.1:1"); // a Location the edge does not know
    assertThat(Waits.await(5, usWest.imageLink(linked, 0)).bodyAsJsonObject().getString("url")).as("by the answer's region name")
        .startsWith(edge.usEast.url());
    String streamed = adopted(edge.usWest, edge.usEast, "us-east", edge.usEast.url());
    WebSocket socket = Waits.await(5, usWest.events(streamed, 2));
    socket.close();
    assertThat(edge.usEast.streamAfters).containsExactly(2L);

    assertThat(directory.forRequestId(streamed).orElseThrow().name()).isEqualTo("us-east");
    clock.advanceMs(AdoptionRedirects.REMEMBER_MS);
    assertThat(directory.forRequestId(streamed).orElseThrow().name()).isEqualTo("us-west");
    web.close();
  }

  /** A request of {@code origin} that {@code adopter} holds, answered by {@code origin} with a 307 naming it. */
  private String adopted(FakeRegion origin, FakeRegion adopter, String adopterName, String location) {
    String id = origin.addRequest(history);
    origin.views.get(id).put("user", "alice");
    adopter.adopt(id, history);
    adopter.views.get(id).put("user", "alice").put("status", "queued");
    origin.adoptedBy.put(id, List.of(adopterName, location));
    return id;
  }

  private HttpResponse<Buffer> get(String path, String key) {
    return Waits.await(TestEdge.AWAIT_S, edge.http.get(edge.port, "127.0.0.1", path).putHeader("Authorization", "Bearer " + key).send());
  }

  private static List<JsonObject> history() {
    List<JsonObject> events = new ArrayList<>();
    for (int step = 1; step <= 4; step++) {
      events.add(new JsonObject().put("type", "step").put("step", step).put("total", 4));
    }
    events.add(new JsonObject().put("type", "completed"));
    return events;
  }

  private static String sha(String key) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
