package dev.genmesh.region.failover;

import static dev.genmesh.region.failover.ReplicationTest.accepted;
import static dev.genmesh.region.failover.ReplicationTest.spec;
import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ReplicationConfig.Mode;
import dev.genmesh.config.ReplicationConfig.PeerLoss;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.region.TestWorker;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A region dies (its PostgreSQL SIGKILLed, its node gone); its peer adopts its open requests from
 * the replica and runs each once; the region returns and fails back without running any of them
 * again (docs/architecture.md, "Adoption" and "Fail-back").
 */
@ExtendWith(StoresExtension.class)
class AdoptionTest {
  private static final List<String> MODELS = List.of("genmesh-tiny");
  private static TestStores stores;

  @BeforeAll
  static void shared(TestStores shared) {
    stores = shared;
  }

  @Test
  void thePeerAdoptsFromTheReplicaRunsEachOnceAndTheReturningRegionNeverRunsThemAgain() throws Exception {
    try (TwoRegions mesh = new TwoRegions(stores, Mode.SYNC, PeerLoss.DEGRADE)) {
      mesh.awaitStreaming("sync");
      List<String> queued = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        queued.add(accepted(await(mesh.west.submit(spec()))));
      }
      String cancelled = accepted(await(mesh.west.submit(spec())));
      assertThat(await(mesh.west.delete("/regional/v1/generations/" + cancelled)).statusCode()).isEqualTo(200);
      // One is running in us-west when it dies: assigned, two steps.
      TestWorker westWorker = new TestWorker(mesh.westVertx, TwoRegions.WEST, "w-" + UUID.randomUUID(), MODELS);
      Assignment running = await(westWorker.claim());
      westWorker.step(running, 1, 3, 5.0);
      westWorker.step(running, 2, 3, 5.0);
      Waits.eventually("both steps in the log", () -> mesh.west.events(running.requestId()).size() == 4);
      long lastSeqInWest = mesh.west.events(running.requestId()).get(3).getLong("id");

      mesh.westPg.kill();
      mesh.crashWest();

      // The operator's trigger takes the path of a quorum decision.
      JsonObject outcome = await(mesh.east.post(FailoverRoutes.DECISIONS,
          new JsonObject().put("region", "us-west").put("state", "down").put("reason", "test: us-west killed").toBuffer()))
          .bodyAsJsonObject();
      assertThat(outcome.getString("action")).isEqualTo("adopted");
      assertThat(outcome.getInteger("adopted")).isEqualTo(3);
      JsonObject again = await(mesh.east.post(FailoverRoutes.DECISIONS,
          new JsonObject().put("region", "us-west").put("state", "down").toBuffer())).bodyAsJsonObject();
      assertThat(again.getInteger("adopted")).as("a second decision adopts nothing twice").isZero();
      assertThat(mesh.east.counter("genmesh.failover.adopted", "from", "us-west")).isEqualTo(3.0);

      // Same ids, history and numbering; a region_failover event last; GET answers from us-east.
      List<String> adopted = List.copyOf(queued); // the running one is one of them
      assertThat(adopted).contains(running.requestId());
      for (String id : adopted) {
        JsonObject view = mesh.east.view(id);
        assertThat(view.getString("status")).isEqualTo("queued");
      }
      List<JsonObject> history = mesh.east.events(running.requestId());
      assertThat(history).extracting(e -> e.getString("type"))
          .containsExactly("queued", "assigned", "step", "step", "region_failover");
      assertThat(history.get(4).getLong("id")).isEqualTo(lastSeqInWest + 1);
      JsonObject failover = history.get(4);
      assertThat(failover.getString("from")).isEqualTo("us-west");
      assertThat(failover.getString("to")).isEqualTo("us-east");
      assertThat(failover.getString("reason")).isEqualTo("test: us-west killed");
      assertThat(failover.containsKey("position")).isTrue();
      assertThat(failover.getString("waiting")).as("no worker in us-east yet").contains("no worker");
      List<JsonObject> resumed = await(mesh.east.get("/regional/v1/generations/" + running.requestId() + "/events?after="
          + lastSeqInWest)).bodyAsJsonObject().getJsonArray("events").stream().map(e -> (JsonObject) e).toList();
      assertThat(resumed).extracting(e -> e.getString("type")).containsExactly("region_failover");
      // Ended in us-west before it died: not adopted, answered read-only from the replica.
      JsonObject endedView = mesh.east.view(cancelled);
      assertThat(endedView.getString("status")).isEqualTo("cancelled");
      assertThat(endedView.getString("served_from")).isEqualTo("replica");

      // us-east runs each adopted request once.
      TestWorker eastWorker = new TestWorker(mesh.eastVertx, TwoRegions.EAST, "e-" + UUID.randomUUID(), MODELS);
      for (int i = 0; i < adopted.size(); i++) {
        Assignment a = await(eastWorker.claim());
        assertThat(adopted).contains(a.requestId());
        eastWorker.step(a, 1, 3, 5.0);
        await(eastWorker.result(a.requestId(), a.attempt(), List.of(TestWorker.png(i))));
      }
      for (String id : adopted) {
        Waits.eventually("completed in us-east", () -> "completed".equals(mesh.east.view(id).getString("status")));
      }

      // us-west returns: reconciled before it dispatches anything.
      mesh.westPg.restart();
      mesh.restartWest();
      Map<String, Object> statuses = adopted.stream().collect(Collectors.toMap(id -> id,
          id -> mesh.westPg.query("SELECT status FROM requests WHERE id = ?", id).get(0).get("status")));
      assertThat(statuses).hasSize(3).allSatisfy((id, status) -> assertThat(status).isEqualTo("ADOPTED"));
      TestWorker westAgain = new TestWorker(mesh.westVertx, TwoRegions.WEST, "w2-" + UUID.randomUUID(), MODELS);
      assertThat(await(westAgain.claimOrNull())).as("nothing adopted is dispatched in us-west").isNull();
      HttpResponse<Buffer> redirected = mesh.westGetNoRedirect("/regional/v1/generations/" + running.requestId());
      assertThat(redirected.statusCode()).isEqualTo(307);
      assertThat(redirected.bodyAsJsonObject().getString("code")).isEqualTo("adopted");
      assertThat(redirected.bodyAsJsonObject().getString("region")).isEqualTo("us-east");
      // A progress stream's upgrade gets the same 307, which the edge follows to the adopter.
      String events = "/regional/v1/generations/" + running.requestId() + "/events?after=1";
      io.vertx.core.http.UpgradeRejectedException refused = mesh.westWebSocketRefusal(events);
      assertThat(refused.getStatus()).isEqualTo(307);
      assertThat(refused.getHeaders().get("Location")).endsWith(events);
      assertThat(new JsonObject(refused.getBody()).getString("region")).isEqualTo("us-east");
      assertThat(mesh.west.view(cancelled).getString("status")).isEqualTo("cancelled");
      // New traffic: served by us-west again.
      String fresh = accepted(await(mesh.west.submit(spec())));
      assertThat(await(westAgain.claim()).requestId()).isEqualTo(fresh);

      // us-west is up: us-east applies its log again, and its replica learns the adoptions.
      JsonObject up = await(mesh.east.post(FailoverRoutes.DECISIONS,
          new JsonObject().put("region", "us-west").put("state", "up").toBuffer())).bodyAsJsonObject();
      assertThat(up.getString("action")).isEqualTo("resumed");
      mesh.eventually("us-east's replica of us-west catches up",
          () -> adopted.stream().allMatch(id -> "ADOPTED".equals(mesh.replicaRows(id).get(0).get("status"))));

      // Exactly once as the user sees it: one completed event per request, all in us-east.
      for (String id : adopted) {
        assertThat(mesh.east.events(id).stream().filter(e -> "completed".equals(e.getString("type"))).count()).isEqualTo(1);
        assertThat(mesh.westPg.query("SELECT count(*) AS n FROM request_events WHERE request_id = ? AND type = 'completed'", id))
            .singleElement().satisfies(row -> assertThat(row.get("n")).isEqualTo(0L));
      }
    }
  }
}
