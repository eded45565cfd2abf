package dev.genmesh.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.EdgeLimits;
import dev.genmesh.testkit.Waits;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A slow or greedy client cannot hold the edge: an idle timeout that bounds trickled headers and
 * that quiet event streams survive, keep-alive and body deadlines, a bound on event streams per
 * client, JSON for malformed HTTP. Short limits: keep-alive 300 ms, body 600 ms, idle 2 s, 2
 * streams per client.
 */
class EdgeLimitsTest {
  private static final EdgeLimits LIMITS = new EdgeLimits(300, 600, 2_000, 2);
  private static final String ANN_KEY = "key-of-ann";

  private TestEdge edge;
  private WebSocketClient webSockets;

  @BeforeEach
  void start() throws Exception {
    String annHash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(ANN_KEY.getBytes(StandardCharsets.UTF_8)));
    edge = new TestEdge(config -> config.withLimits(LIMITS).withApiKeys(false, Map.of("ann", annHash)));
    webSockets = edge.vertx.createWebSocketClient();
  }

  @AfterEach
  void stop() {
    edge.close();
  }

  @Test
  void halfABodyGets408AndTheConnectionClosesWhileOthersAreServed() throws Exception {
    try (RawHttp slow = new RawHttp(edge.port, 5_000)) {
      byte[] whole = RawHttp.request("POST", "/v1/generations", Map.of("Content-Type", "application/json"),
          "{\"prompt\": \"a fox that never arrives\"}".getBytes(StandardCharsets.UTF_8));
      slow.send(java.util.Arrays.copyOf(whole, whole.length - 10));

      // Another client meanwhile: served at once.
      assertThat(edge.post("{\"prompt\": \"a fox\"}", Map.of()).statusCode()).isEqualTo(202);

      long start = System.nanoTime();
      RawHttp.Response answer = slow.read();
      long waitedMs = (System.nanoTime() - start) / 1_000_000;
      assertThat(answer.status()).isEqualTo(408);
      assertThat(answer.headers().get("content-type")).startsWith("application/json");
      assertThat(new JsonObject(answer.text()).getString("code")).isEqualTo("request_timeout");
      assertThat(waitedMs).isLessThan(3_000);
      assertThat(slow.closedByServer()).isTrue();
    }
    assertThat(edge.createdInRegions()).isEqualTo(1);
    assertThat(edge.scrape()).contains("code=\"request_timeout\",outcome=\"rejected\"");
  }

  @Test
  void headersTrickledForeverAreCutOffByTheIdleTimeout() throws Exception {
    // A header line every 150 ms: header bytes are not activity, so the 2 s idle timeout ends it.
    try (RawHttp trickle = new RawHttp(edge.port, 150)) {
      trickle.send("POST /v1/generations HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      boolean closed = false;
      for (int i = 0; i < 40 && !closed; i++) {
        try {
          trickle.send("X-Slow-" + i + ": a\r\n");
          closed = trickle.closedByServer();
        } catch (java.io.IOException reset) {
          closed = true;
        }
      }

      assertThat(closed).as("closed within 6 s of trickling").isTrue();
    }
  }

  @Test
  void aKeepAliveConnectionWithoutANextRequestIsClosedAtTheKeepAliveTimeout() throws Exception {
    try (RawHttp idle = new RawHttp(edge.port, 1_500)) {
      idle.send(RawHttp.request("GET", "/health/live", Map.of(), null));
      assertThat(idle.read().status()).isEqualTo(200);

      assertThat(idle.closedByServer()).as("closed within 1.5 s, before the 2 s idle timeout").isTrue();
    }
  }

  @Test
  void aClientHoldsAtMostItsShareOfEventStreamsAndGetsOneBackWhenItClosesOne() {
    for (int i = 0; i < 3; i++) {
      Throwable unknown = Waits.failure(webSockets.connect(options("usw_" + "0".repeat(26), null)));
      assertThat(((UpgradeRejectedException) unknown).getStatus()).as("refused streams hold no place").isEqualTo(404);
    }
    String first = running(edge.usWest);
    String second = running(edge.usEast);
    List<WebSocket> open = new ArrayList<>();
    open.add(stream(first, null));
    open.add(stream(second, null));

    Throwable third = Waits.failure(webSockets.connect(options(first, null)));
    assertThat(third).isInstanceOfSatisfying(UpgradeRejectedException.class, rejected -> {
      assertThat(rejected.getStatus()).isEqualTo(429);
      assertThat(rejected.getBody().toJsonObject().getString("code")).isEqualTo("too_many_streams");
    });
    // Another client (ann's key, from the same address) has its own share (of her own requests: only an
    // owner may follow a request's events).
    String annsFirst = running(edge.usWest, "ann");
    String annsSecond = running(edge.usEast, "ann");
    open.add(stream(annsFirst, ANN_KEY));
    open.add(stream(annsSecond, ANN_KEY));

    Waits.await(TestEdge.AWAIT_S, open.get(0).close());
    Waits.eventually(TestEdge.AWAIT_S, () -> {
      try {
        open.add(Waits.await(TestEdge.AWAIT_S, webSockets.connect(options(first, null))));
        return true;
      } catch (AssertionError stillFull) {
        return false;
      }
    }, "a stream place given back");
    assertThat(edge.usWest.streamsClosedByEdge.get()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void aQuietEventStreamOutlivesTheIdleTimeout() throws Exception {
    WebSocket socket = stream(running(edge.euWest), null);

    Thread.sleep(5 * LIMITS.idleTimeoutMs() / 2);

    assertThat(socket.isClosed()).as("pinged every %d ms", LIMITS.streamPingIntervalMs()).isFalse();
  }

  @Test
  void malformedHttpGetsJsonErrorsToo() throws Exception {
    Map<String, Integer> expected = Map.of(
        "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(9_000) + "\r\n\r\n", 431,
        "GET /" + "a".repeat(5_000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414,
        "GET /health/live HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n", 400,
        "POST /v1/generations HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400);
    for (Map.Entry<String, Integer> request : expected.entrySet()) {
      try (RawHttp raw = new RawHttp(edge.port, 5_000)) {
        RawHttp.Response answer = raw.send(request.getKey()).read();
        assertThat(answer.status()).as(request.getKey().substring(0, 40)).isEqualTo(request.getValue());
        assertThat(new JsonObject(answer.text()).getString("code")).isNotBlank();
      }
    }
    assertThat(edge.regionStates().values()).containsOnly("healthy");
  }

  private static String running(FakeRegion region) {
    return running(region, "anonymous");
  }

  private static String running(FakeRegion region, String owner) {
    String id = region.addRequest(List.of(new JsonObject().put("type", "queued").put("position", 1)));
    region.views.get(id).put("user", owner);
    region.running.add(id);
    return id;
  }

  private WebSocketConnectOptions options(String id, String apiKey) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(edge.port)
        .setURI("/v1/generations/" + id + "/events");
    return apiKey == null ? options : options.addHeader("Authorization", "Bearer " + apiKey);
  }

  private WebSocket stream(String id, String apiKey) {
    return Waits.await(TestEdge.AWAIT_S, webSockets.connect(options(id, apiKey)));
  }
}
