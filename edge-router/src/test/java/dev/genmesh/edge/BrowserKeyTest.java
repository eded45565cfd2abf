package dev.genmesh.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A browser's WebSocket cannot send {@code Authorization}: the web page offers its key as the
 * subprotocol {@code genmesh.bearer.<base64url>} beside {@code genmesh.events}, which the edge
 * selects (docs/security.md). The key then counts exactly as the header would: its owner's
 * stream opens, another user's key gets the 404 of an unknown id, a bad key 401.
 */
@ExtendWith(StoresExtension.class)
class BrowserKeyTest {
  private static final long S = 10;

  @Test
  void anEventStreamTakesItsKeyFromASubprotocol(TestStores stores) {
    Vertx vertx = Vertx.vertx();
    FakeRegion region = Waits.await(S, new FakeRegion(vertx, "us-west", "usw").start());
    region.completeOnSubmit = true;
    UsersFixture fixture = new UsersFixture(vertx, stores, region, u -> u);
    try {
      String alice = fixture.userWithKey("alice", false);
      String bob = fixture.userWithKey("bob", false);
      EdgeVerticle edge = fixture.deployEdge(vertx, fixture.config, Clock.systemUTC());
      String id = Waits.await(S, WebClient.create(vertx).post(edge.actualPort(), "127.0.0.1", "/v1/generations")
              .putHeader("Authorization", "Bearer " + alice).sendJsonObject(new JsonObject().put("prompt", "a cat")))
          .bodyAsJsonObject().getString("id");
      region.events.put(id, List.of( // what the region streams: then the stream ends
          new JsonObject().put("id", 1).put("request_id", id).put("type", "queued").put("queue_position", 0),
          new JsonObject().put("id", 2).put("request_id", id).put("type", "completed")
              .put("images", new io.vertx.core.json.JsonArray().add("/v1/images/" + id + "/0.png"))));
      WebSocketClient client = vertx.createWebSocketClient();

      List<String> types = new ArrayList<>();
      Promise<Void> closed = Promise.promise();
      WebSocket socket = Waits.await(S, client.connect(options(edge, id, "genmesh.events", bearer(alice))).map(ws -> {
        ws.textMessageHandler(text -> types.add(new JsonObject(text).getString("type")));
        ws.closeHandler(v -> closed.tryComplete());
        return ws;
      }));
      assertThat(socket.subProtocol()).isEqualTo("genmesh.events");
      Waits.await(S, closed.future());
      assertThat(types).contains("queued").last().isEqualTo("completed");

      assertThat(rejection(client, options(edge, id, "genmesh.events", bearer(bob)))).isEqualTo(404);
      assertThat(rejection(client, options(edge, id, "genmesh.events", "genmesh.bearer.bm90LWEta2V5"))).isEqualTo(401);
      assertThat(rejection(client, options(edge, id, "genmesh.events"))).as("keys are required here").isEqualTo(401);
    } finally {
      fixture.close(vertx);
    }
  }

  private static String bearer(String key) {
    return "genmesh.bearer." + Base64.getUrlEncoder().withoutPadding().encodeToString(key.getBytes(StandardCharsets.UTF_8));
  }

  private static WebSocketConnectOptions options(EdgeVerticle edge, String id, String... protocols) {
    return new WebSocketConnectOptions().setHost("127.0.0.1").setPort(edge.actualPort())
        .setURI("/v1/generations/" + id + "/events").setSubProtocols(List.of(protocols));
  }

  private static int rejection(WebSocketClient client, WebSocketConnectOptions options) {
    Throwable failure = Waits.failure(client.connect(options));
    assertThat(failure).isInstanceOf(UpgradeRejectedException.class);
    return ((UpgradeRejectedException) failure).getStatus();
  }
}
