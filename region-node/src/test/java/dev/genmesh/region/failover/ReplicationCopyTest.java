package dev.genmesh.region.failover;

import static dev.genmesh.region.failover.ReplicationTest.accepted;
import static dev.genmesh.region.failover.ReplicationTest.spec;
import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ReplicationConfig.Mode;
import dev.genmesh.config.ReplicationConfig.PeerLoss;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Sync replication is RPO 0 only once the peer's subscription has copied every table
 * (docs/architecture.md, "Replication and adoption"). us-east's server runs no table-sync worker
 * when its subscription of us-west's log is made ({@link TwoRegions#stallCopy}), so us-west's tables
 * stay in their initial copy while us-east streams: its apply worker confirms what it skips, and a
 * commit returns while the replica does not hold it. us-west must not say sync then: degraded (with
 * {@code degrade}) or refusing submits (with {@code refuse}), until every table is ready.
 */
@ExtendWith(StoresExtension.class)
class ReplicationCopyTest {
  @Test
  void whileThePeerCopiesTheInitialLogTheModeIsDegradedAndSyncOnlyOnceTheReplicaHoldsWhatWasAcknowledged(
      TestStores stores) throws Exception {
    try (TwoRegions mesh = new TwoRegions(stores, Mode.SYNC, PeerLoss.DEGRADE, UnaryOperator.identity(),
        TwoRegions::stallCopy)) {
      JsonObject copying = awaitCopyRead(mesh);
      assertThat(copying.getString("mode")).isEqualTo("degraded");
      assertThat(copying.getBoolean("refusing")).isFalse();
      assertThat(copying.getInteger("peer_tables")).isEqualTo(2);
      assertThat(copying.getInteger("peer_tables_ready")).isZero();
      assertThat(copying.getString("problem")).contains("us-east is copying the initial request log: 0 of 2 tables ready");
      assertThat(mesh.westAlerts).anySatisfy(alert -> assertThat(alert.getString("type")).isEqualTo("replication_copying"));
      assertThat(mesh.west.meters.find("genmesh.replication.peer.tables_ready").gauge().value()).isZero();
      assertThat(mesh.west.meters.find("genmesh.replication.peer.tables").gauge().value()).isEqualTo(2.0);
      assertThat(mesh.west.meters.find("genmesh.replication.mode").tag("mode", "sync").gauge().value()).isZero();
      HttpResponse<Buffer> ready = await(mesh.west.get("/health/ready"));
      assertThat(ready.statusCode()).isEqualTo(200);
      assertThat(ready.bodyAsString()).contains("copying the initial request log");

      // Acknowledged while the copy stalls: the peer confirmed it, yet its replica does not hold it.
      String early = accepted(await(mesh.west.submit(spec())));
      assertThat(mesh.replicaRows(early)).as("the stalled copy holds nothing yet").isEmpty();
      for (int i = 0; i < 10; i++) {
        Thread.sleep(200); // one check each (replication.check_interval_ms)
        assertThat(mesh.westReplication().getString("mode")).as("never sync while the peer copies").isEqualTo("degraded");
      }

      mesh.resumeCopy();
      mesh.awaitStreaming("sync");
      // Sync is said only once the replica holds what was acknowledged during the copy.
      assertThat(mesh.replicaRows(early)).hasSize(1);
      JsonObject synced = mesh.westReplication();
      assertThat(synced.getInteger("peer_tables_ready")).isEqualTo(2);
      assertThat(synced.containsKey("problem")).isFalse();
      assertThat(mesh.westAlerts).anySatisfy(alert -> assertThat(alert.getString("type")).isEqualTo("replication_restored"));
      String late = accepted(await(mesh.west.submit(spec())));
      assertThat(mesh.replicaRows(late)).as("RPO 0: the replica held it when the 202 came").hasSize(1);
    }
  }

  @Test
  void withRefuseSubmitsAreRefusedWhileThePeerCopiesAndTakenOnceItIsDone(TestStores stores) throws Exception {
    try (TwoRegions mesh = new TwoRegions(stores, Mode.SYNC, PeerLoss.REFUSE, UnaryOperator.identity(),
        TwoRegions::stallCopy)) {
      JsonObject copying = awaitCopyRead(mesh);
      assertThat(copying.getString("mode")).isEqualTo("degraded");
      assertThat(copying.getBoolean("refusing")).isTrue();
      HttpResponse<Buffer> refused = await(mesh.west.submit(spec()));
      assertThat(refused.statusCode()).isEqualTo(503);
      assertThat(refused.bodyAsJsonObject().getString("code")).isEqualTo("replication_unavailable");
      assertThat(await(mesh.west.get("/health/ready")).statusCode()).isEqualTo(503);

      mesh.resumeCopy();
      mesh.awaitStreaming("sync");
      assertThat(mesh.westReplication().getBoolean("refusing")).isFalse();
      String id = accepted(await(mesh.west.submit(spec())));
      assertThat(mesh.replicaRows(id)).hasSize(1);
    }
  }

  /**
   * us-west's replication state once it has read us-east's copy while us-east streams; fails at once
   * if us-west says sync meanwhile (us-east's tables are all in their stalled copy).
   */
  private static JsonObject awaitCopyRead(TwoRegions mesh) {
    mesh.eventually("us-west reads the copy of its streaming peer", () -> {
      JsonObject state = mesh.westReplication();
      if ("sync".equals(state.getString("mode"))) {
        throw new AssertionError("us-west says sync while us-east's subscription copies: " + state.encode() + ", "
            + mesh.eastPg.query("SELECT srsubstate FROM pg_subscription_rel"));
      }
      return state.getBoolean("peer_streaming") && state.containsKey("peer_tables");
    });
    return mesh.westReplication();
  }
}
