package dev.genmesh.region.failover;

import static dev.genmesh.region.failover.ReplicationTest.accepted;
import static dev.genmesh.region.failover.ReplicationTest.spec;
import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ReplicationConfig.Mode;
import dev.genmesh.config.ReplicationConfig.PeerLoss;
import dev.genmesh.config.failover.FailoverConfig;
import dev.genmesh.embedded.FaultProxy;
import dev.genmesh.failover.FailoverParticipant;
import dev.genmesh.images.ImageKeys;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.region.TestWorker;
import dev.genmesh.testkit.RegionPostgres;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A fenced region holds the results that arrive meanwhile (docs/architecture.md, "Held results"):
 * us-west and us-east with failover on, each with its own PostgreSQL and Hazelcast-free Vert.x,
 * and the edge's participant in this JVM; us-west reaches the edge through a {@link FaultProxy},
 * so cutting it leaves us-west one vote of two: fenced. A result that arrives while fenced waits
 * in SAFETY_PENDING, unpublished; once unfenced, us-west asks us-east what it adopted: not adopted,
 * it completes as usual (one completed event); adopted (the operator's decision, while fenced), it
 * is discarded: ADOPTED here, its images deleted, never completed here.
 */
@ExtendWith(StoresExtension.class)
class HeldResultsTest {
  /** The test's steps, given the mesh (failover on, us-west unfenced) and us-west's link to the edge. */
  private interface Scenario {
    void run(TwoRegions mesh, FaultProxy westToEdge) throws Exception;
  }

  /**
   * Runs {@code scenario} on us-west and us-east with failover on and the edge's participant in this JVM.
   *
   * @param beforeEast runs against us-east's server before its node starts
   */
  private static void withFailover(TestStores stores, Consumer<RegionPostgres> beforeEast, Scenario scenario)
      throws Exception {
    Vertx edgeVertx = Vertx.vertx();
    HttpServer edgeServer = await(edgeVertx.createHttpServer().requestHandler(Router.router(edgeVertx)).listen(0));
    int edgePort = edgeServer.actualPort();
    await(edgeServer.close());
    try (FaultProxy westToEdge = FaultProxy.start("127.0.0.1", edgePort);
        TwoRegions mesh = new TwoRegions(stores, Mode.SYNC, PeerLoss.DEGRADE, c -> c.withFailover(c.failover()
            .withEnabled(true).withEdgeUrl("http://127.0.0.1:" + edgePort).withTimings(4000, 1000, 2000, 60_000, 200, 500)),
            beforeEast)) {
      FailoverParticipant edge = new FailoverParticipant(edgeVertx, mesh.config, FailoverConfig.EDGE, Clock.systemUTC(),
          new SimpleMeterRegistry());
      Router router = Router.router(edgeVertx);
      edge.mount(router);
      await(edgeVertx.createHttpServer().requestHandler(router).listen(edgePort));
      String westUrl = "http://127.0.0.1:" + mesh.west.port();
      String eastUrl = "http://127.0.0.1:" + mesh.east.port();
      edge.useAddresses(Map.of("us-west", westUrl, "us-east", eastUrl));
      mesh.east.node.failover().useAddresses(Map.of("us-west", westUrl, FailoverConfig.EDGE, "http://127.0.0.1:" + edgePort));
      mesh.west.node.failover().useAddresses(Map.of("us-east", eastUrl, FailoverConfig.EDGE, westToEdge.url()));
      edgeVertx.runOnContext(v -> edge.start());
      awaitFenced(mesh, false);
      scenario.run(mesh, westToEdge);
    } finally {
      await(edgeVertx.close());
    }
  }

  /**
   * While the peer still copies the initial log, sync replication is degraded (not RPO 0): a result
   * is held, and completed once the copy is done and us-east says it did not adopt the request.
   */
  @Test
  void aResultThatArrivesWhileThePeerCopiesTheLogIsHeldAndCompletedOnceItIsSync(TestStores stores) throws Exception {
    withFailover(stores, TwoRegions::stallCopy, (mesh, westToEdge) -> {
      mesh.eventually("us-west reads us-east's copy", () -> mesh.westReplication().containsKey("peer_tables"));
      assertThat(mesh.westReplication().getString("mode")).isEqualTo("degraded");
      TestWorker worker = new TestWorker(mesh.westVertx, TwoRegions.WEST, "w-" + UUID.randomUUID(),
          List.of("genmesh-tiny"));
      String id = accepted(await(mesh.west.submit(spec())));
      Assignment assignment = await(worker.claim());
      JsonObject answer = await(worker.result(id, assignment.attempt(), List.of(TestWorker.png(1))));
      assertThat(answer.getString("status")).isEqualTo("safety_pending");
      assertThat(mesh.westPg.query("SELECT reason FROM held_results WHERE request_id = ?", id)).hasSize(1);
      // Held for the copy (a fence that flaps under load holds it too, and is not what is checked here):
      // unfenced, a release pass runs every 200 ms, yet the result stays held while us-east copies.
      awaitFenced(mesh, false);
      for (int i = 0; i < 10; i++) {
        Thread.sleep(200);
        assertThat(mesh.west.view(id).getString("status")).as("held while the peer copies").isEqualTo("safety_pending");
      }
      assertThat(mesh.westReplication().getString("mode")).isEqualTo("degraded");

      mesh.resumeCopy();
      mesh.awaitStreaming("sync");
      Waits.eventually("the held result completed", () -> "completed".equals(mesh.west.view(id).getString("status")));
      assertThat(completedEvents(mesh, id)).isEqualTo(1);
      assertThat(mesh.west.counter("genmesh.failover.results", "outcome", "released")).isEqualTo(1.0);
    });
  }

  @Test
  void aResultThatArrivesWhileFencedIsHeldThenCompletedIfNotAdoptedAndDiscardedIfAdopted(TestStores stores) throws Exception {
    withFailover(stores, server -> { }, (mesh, westToEdge) -> {
      mesh.awaitStreaming("sync");

      // Not adopted: held while fenced, completed once the region knows.
      TestWorker worker = new TestWorker(mesh.westVertx, TwoRegions.WEST, "w-" + UUID.randomUUID(),
          List.of("genmesh-tiny"));
      String kept = accepted(await(mesh.west.submit(spec())));
      Assignment first = await(worker.claim());
      assertThat(first.requestId()).isEqualTo(kept);
      westToEdge.down();
      awaitFenced(mesh, true);
      JsonObject answer = await(worker.result(kept, first.attempt(), List.of(TestWorker.png(1))));
      assertThat(answer.getString("status")).isEqualTo("safety_pending");
      assertThat(mesh.west.view(kept).getString("status")).isEqualTo("safety_pending");
      assertThat(mesh.westPg.query("SELECT attempt FROM held_results WHERE request_id = ?", kept)).hasSize(1);
      assertThat(mesh.west.counter("genmesh.failover.results", "outcome", "held")).isEqualTo(1.0);
      westToEdge.up();
      Waits.eventually("the held result completed", () -> "completed".equals(mesh.west.view(kept).getString("status")));
      assertThat(completedEvents(mesh, kept)).isEqualTo(1);
      assertThat(mesh.west.counter("genmesh.failover.results", "outcome", "released")).isEqualTo(1.0);
      assertThat(mesh.westPg.query("SELECT attempt FROM held_results WHERE request_id = ?", kept)).isEmpty();

      // Adopted while fenced: the held result is discarded and the request is the adopter's.
      String adopted = accepted(await(mesh.west.submit(spec())));
      Assignment second = await(worker.claim());
      assertThat(second.requestId()).isEqualTo(adopted);
      westToEdge.down();
      awaitFenced(mesh, true);
      await(worker.result(adopted, second.attempt(), List.of(TestWorker.png(2))));
      String key = ImageKeys.of(adopted, second.attempt(), 0);
      assertThat(await(mesh.west.images.head(key)).isPresent()).as("the held result's image is stored").isTrue();
      JsonObject outcome = await(mesh.east.post(FailoverRoutes.DECISIONS, new JsonObject().put("region", "us-west")
          .put("state", "down").put("reason", "test: us-west fenced").toBuffer())).bodyAsJsonObject();
      assertThat(outcome.getInteger("adopted")).isEqualTo(1);
      westToEdge.up();
      await(mesh.east.post(FailoverRoutes.DECISIONS, new JsonObject().put("region", "us-west").put("state", "up").toBuffer()));
      Waits.eventually("the held result discarded", () -> mesh.west.counter("genmesh.failover.results", "outcome",
          "discarded") == 1.0);
      assertThat(mesh.westPg.query("SELECT status FROM requests WHERE id = ?", adopted).get(0).get("status"))
          .isEqualTo("ADOPTED");
      assertThat(mesh.westGetNoRedirect("/regional/v1/generations/" + adopted).statusCode()).isEqualTo(307);
      assertThat(completedEvents(mesh, adopted)).as("never completed in us-west").isZero();
      Waits.eventually("the discarded image deleted", () -> !await(mesh.west.images.head(key)).isPresent());
      assertThat(mesh.west.counter("genmesh.failover.results", "outcome", "released")).isEqualTo(1.0);
    });
  }

  private static void awaitFenced(TwoRegions mesh, boolean fenced) {
    Waits.eventually(30, 100, () -> mesh.west.node.failover().fenced() == fenced, "us-west fenced: " + fenced);
  }

  private static long completedEvents(TwoRegions mesh, String id) {
    return (Long) mesh.westPg.query("SELECT count(*) AS n FROM request_events WHERE request_id = ? AND type = 'completed'",
        id).get(0).get("n");
  }
}
