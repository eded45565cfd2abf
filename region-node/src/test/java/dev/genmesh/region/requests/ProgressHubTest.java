package dev.genmesh.region.requests;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.EventType;
import dev.genmesh.protocol.ProgressEvent;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ProgressHubTest {
  private static final String REGION = "us-west";
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    await(vertx.close());
  }

  private static ProgressEvent event(String id, long seq) {
    return new ProgressEvent(id, seq, EventType.COMPLETED, Instant.parse("2026-12-08T02:30:00.123Z"),
        new JsonObject().put("images", List.of("/v1/images/" + id + "/0.png")).put("note", "ünïcode"));
  }

  @Test
  void theCodecSendsTheEventAsItsJsonOverTheClusterAndAsItselfInThisJvm() {
    ProgressHub.EventCodec codec = new ProgressHub.EventCodec();
    ProgressEvent sent = event("usw_0123456789abcdef", 7);
    Buffer wire = Buffer.buffer("before");
    codec.encodeToWire(wire, sent);
    wire.appendString("after");

    ProgressEvent received = codec.decodeFromWire("before".length(), wire);
    assertThat(received).isEqualTo(sent);
    assertThat(received.toJson()).isEqualTo(sent.toJson());
    assertThat(codec.transform(sent)).isSameAs(sent);
  }

  @Test
  void subscribersGetTheirRequestsEventsWhetherPublishedAsEventsOrAsJson() {
    ProgressHub hub = new ProgressHub(vertx, REGION);
    await(hub.start());
    ProgressHub second = new ProgressHub(vertx, REGION); // another node on the same Vert.x registers the codec again
    await(second.start());
    List<ProgressEvent> got = new CopyOnWriteArrayList<>();
    vertx.runOnContext(v -> hub.subscribe("usw_a", got::add));

    vertx.runOnContext(v -> {
      hub.publish(event("usw_a", 1));
      hub.publish(event("usw_b", 1));
      // As a node of the previous version publishes: the JSON.
      vertx.eventBus().publish(Addresses.events(REGION), event("usw_a", 2).toJson());
    });

    dev.genmesh.testkit.Waits.eventually("both events of usw_a", () -> got.size() == 2);
    assertThat(got).extracting(ProgressEvent::seq).containsExactly(1L, 2L);
    assertThat(got).extracting(ProgressEvent::requestId).containsOnly("usw_a");
  }
}
