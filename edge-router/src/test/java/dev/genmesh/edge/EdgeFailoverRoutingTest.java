package dev.genmesh.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.failover.FailoverConfig;
import dev.genmesh.testkit.Waits;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The edge's side of failover against fake regions that play the other observers: once the quorum
 * holds us-west DOWN, submits avoid it even though the edge's readiness polls still call it healthy,
 * its ids are served by its adopter us-east, and a progress stream that broke in us-west continues
 * from us-east after the last event relayed, with no gap and no repeat; on UP, submits return.
 */
class EdgeFailoverRoutingTest {
  static final long DETECT_MS = 2500;
  static final long FAILBACK_MS = 1500;

  private final TestEdge edge = new TestEdge(e -> e, config -> config.withFailover(config.failover().withEnabled(true)
      .withTimings(DETECT_MS, FAILBACK_MS, 1200, 60_000, 100, 1000)));
  private final WebSocketClient webSockets = edge.vertx.createWebSocketClient();

  @AfterEach
  void close() {
    edge.close();
  }

  @Test
  void aDownRegionsIdsGoToItsAdopterAndABrokenStreamContinuesThereWithoutAGap() {
    List<JsonObject> history = new ArrayList<>();
    for (int step = 1; step <= 8; step++) {
      history.add(new JsonObject().put("type", "step").put("step", step).put("total", 8));
    }
    history.add(new JsonObject().put("type", "completed"));
    String id = edge.usWest.addRequest(history.subList(0, 4));
    edge.usWest.running.add(id);

    List<JsonObject> frames = new CopyOnWriteArrayList<>();
    AtomicReference<Short> closedWith = new AtomicReference<>();
    WebSocket client = Waits.await(TestEdge.AWAIT_S, webSockets.connect(edge.port, "127.0.0.1",
        "/v1/generations/" + id + "/events").map(socket -> {
          socket.textMessageHandler(text -> frames.add(new JsonObject(text)));
          socket.closeHandler(v -> closedWith.set(socket.closeStatusCode()));
          return socket;
        }));
    Waits.eventually(TestEdge.AWAIT_S, () -> frames.size() == 4, "the first four events from us-west");

    // us-west dies: its stream breaks, it answers nothing; the other observers suspect it too.
    Instant dead = Instant.now();
    edge.usWest.dead = true;
    edge.usEast.suspects.put("us-west", dead);
    edge.euWest.suspects.put("us-west", dead);
    edge.usEast.adopt(id, history); // the adopter holds the request with the same event numbering
    edge.usWest.breakStreams();

    Waits.eventually(TestEdge.AWAIT_S, () -> closedWith.get() != null, "the stream to end");
    assertThat(closedWith.get()).isEqualTo((short) 1000);
    assertThat(frames).extracting(f -> f.getLong("id")).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
    assertThat(frames.get(8).getString("type")).isEqualTo("completed");
    assertThat(edge.usEast.streamAfters).containsExactly(4L);
    assertThat(client.isClosed()).isTrue();

    JsonObject decisions = edge.get("/failover/decisions").bodyAsJsonObject();
    assertThat(decisions.getJsonObject("regions").getJsonObject("us-west").getString("state")).isEqualTo("down");
    JsonObject down = decisions.getJsonArray("history").getJsonObject(0);
    assertThat(down.getString("adopter")).isEqualTo("us-east");
    assertThat(down.getLong("detection_ms")).isGreaterThanOrEqualTo(DETECT_MS);
    assertThat(edge.get("/v1/generations/" + id).bodyAsJsonObject().getString("region")).isEqualTo("us-east");
    assertThat(edge.regionStates().get("us-west")).as("readiness was polled once, at start").isEqualTo("healthy");
    int westSubmits = edge.usWest.submits.size();
    assertThat(edge.post("{\"prompt\":\"a lighthouse\"}", java.util.Map.of()).statusCode()).isEqualTo(202);
    assertThat(edge.usWest.submits).as("no submit goes to a region held DOWN").hasSize(westSubmits);
    assertThat(edge.usEast.submits).hasSize(1);

    // Back: after failback_after of a majority seeing it healthy, it is UP and new submits return to it.
    edge.usWest.dead = false;
    edge.usEast.suspects.clear();
    edge.euWest.suspects.clear();
    Waits.eventually(TestEdge.AWAIT_S, () -> "up".equals(edge.get("/failover/decisions").bodyAsJsonObject()
        .getJsonObject("regions").getJsonObject("us-west").getString("state")), "us-west up again");
    assertThat(edge.post("{\"prompt\":\"a lighthouse\"}", java.util.Map.of()).statusCode()).isEqualTo(202);
    assertThat(edge.usWest.submits).hasSize(westSubmits + 1);
    assertThat(edge.get("/v1/generations/" + id).bodyAsJsonObject().getString("region")).isEqualTo("us-west");
    assertThat(edge.scrape()).contains("genmesh_failover_decisions_total{participant=\"" + FailoverConfig.EDGE
        + "\",region=\"us-west\",state=\"down\"} 1.0");
  }
}
