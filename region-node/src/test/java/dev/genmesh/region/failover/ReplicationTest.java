package dev.genmesh.region.failover;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ReplicationConfig.Mode;
import dev.genmesh.config.ReplicationConfig.PeerLoss;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Request-log replication between two regions' own PostgreSQL servers (docs/architecture.md,
 * "Replication and adoption"): sync holds the 202 until the peer holds the row, and an unreachable
 * peer degrades (with an alert) or refuses submits by config; async does not wait and shows lag.
 */
@ExtendWith(StoresExtension.class)
class ReplicationTest {
  private static TestStores stores;

  @BeforeAll
  static void shared(TestStores shared) {
    stores = shared;
  }

  static JsonObject spec() {
    return new GenerationSpec("a lighthouse at dusk", "", "genmesh-tiny", Tier.FAST, 512, 512, 3, 42, 7.5, 1).toJson();
  }

  static String accepted(HttpResponse<Buffer> response) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(202);
    return response.bodyAsJsonObject().getString("id");
  }

  @Test
  void syncHoldsThe202UntilThePeerHoldsTheRowAndAnUnreachablePeerDegradesWithAnAlert() throws Exception {
    try (TwoRegions mesh = new TwoRegions(stores, Mode.SYNC, PeerLoss.DEGRADE)) {
      mesh.awaitStreaming("sync");
      String id = accepted(await(mesh.west.submit(spec())));
      // RPO 0: when the 202 came, the peer's replica held the row already.
      assertThat(mesh.replicaRows(id)).singleElement().satisfies(row -> assertThat(row.get("status")).isEqualTo("QUEUED"));

      mesh.eastPg.kill();
      Future<HttpResponse<Buffer>> held = mesh.west.submit(spec());
      Thread.sleep(1000);
      assertThat(held.isComplete()).as("a sync commit waits for the peer").isFalse();
      // After replication.peer_timeout_ms without the peer: async, with an alert, and the submit goes through.
      String degradedId = accepted(await(held));
      assertThat(mesh.westAlerts).anySatisfy(alert -> assertThat(alert.getString("type")).isEqualTo("replication_degraded"));
      JsonObject state = mesh.westReplication();
      assertThat(state.getString("mode")).isEqualTo("degraded");
      assertThat(state.getBoolean("refusing")).isFalse();
      JsonObject ready = await(mesh.west.get("/health/ready")).bodyAsJsonObject();
      assertThat(ready.encode()).contains("\"degraded\"");
      assertThat(mesh.west.meters.find("genmesh.replication.mode").tag("mode", "degraded").gauge().value()).isEqualTo(1.0);

      // The peer returns: sync again (alert), and what it missed arrives.
      mesh.eastPg.restart();
      mesh.awaitStreaming("sync");
      assertThat(mesh.westAlerts).anySatisfy(alert -> assertThat(alert.getString("type")).isEqualTo("replication_restored"));
      mesh.eventually("the row acknowledged while degraded reaches the peer", () -> mesh.replicaRows(degradedId).size() == 1);
    }
  }

  @Test
  void syncWithRefuseHoldsTheInFlightSubmitAndRefusesNewOnesUntilThePeerReturns() throws Exception {
    try (TwoRegions mesh = new TwoRegions(stores, Mode.SYNC, PeerLoss.REFUSE)) {
      mesh.awaitStreaming("sync");
      mesh.eastPg.kill();
      Future<HttpResponse<Buffer>> held = mesh.west.submit(spec());
      Waits.eventually(30, 100, () -> mesh.westReplication().getBoolean("refusing"), "us-west refuses");
      HttpResponse<Buffer> refused = await(mesh.west.submit(spec()));
      assertThat(refused.statusCode()).isEqualTo(503);
      assertThat(refused.bodyAsJsonObject().getString("code")).isEqualTo("replication_unavailable");
      assertThat(refused.getHeader("Retry-After")).isNotNull();
      assertThat(await(mesh.west.get("/health/ready")).statusCode()).isEqualTo(503);
      assertThat(held.isComplete()).as("the commit in flight waits for the peer").isFalse();

      mesh.eastPg.restart();
      String id = accepted(await(held));
      assertThat(mesh.replicaRows(id)).hasSize(1);
      mesh.eventually("us-west takes submits again", () -> !mesh.westReplication().getBoolean("refusing"));
      accepted(await(mesh.west.submit(spec())));
    }
  }

  @Test
  void asyncDoesNotWaitForThePeerAndShowsTheLag() throws Exception {
    try (TwoRegions mesh = new TwoRegions(stores, Mode.ASYNC, PeerLoss.DEGRADE)) {
      mesh.awaitStreaming("async");
      mesh.eastPg.kill();
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        ids.add(accepted(await(5, mesh.west.submit(spec()))));
      }
      Waits.eventually(30, 100, () -> mesh.westReplication().getLong("lag_bytes") > 0, "lag in bytes while the peer is away");
      assertThat(mesh.west.meters.find("genmesh.replication.lag.bytes").gauge().value()).isGreaterThan(0);
      Waits.eventually(30, 100, () -> !mesh.westReplication().getBoolean("peer_streaming"), "the peer is seen gone");
      assertThat(mesh.westReplication().getString("mode")).isEqualTo("async");

      mesh.eastPg.restart();
      mesh.eventually("what was acknowledged meanwhile reaches the peer",
          () -> ids.stream().allMatch(id -> mesh.replicaRows(id).size() == 1));
    }
  }
}
