package dev.genmesh.region.failover;

import static dev.genmesh.region.failover.ReplicationTest.accepted;
import static dev.genmesh.region.failover.ReplicationTest.spec;
import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ReplicationConfig.Mode;
import dev.genmesh.config.ReplicationConfig.PeerLoss;
import dev.genmesh.protocol.RequestIds;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.region.TestWorker;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A request that ended in us-west before it died stays readable at its adopter us-east, read-only
 * from us-east's replica of us-west's log (region-node/API.md, "Answers from the ward's replica").
 */
@ExtendWith(StoresExtension.class)
class WardReadsTest {
  private static TestStores stores;

  @BeforeAll
  static void shared(TestStores shared) {
    stores = shared;
  }

  @Test
  void theAdopterAnswersForTheDownWardsEndedRequestsFromItsReplica() throws Exception {
    try (TwoRegions mesh = new TwoRegions(stores, Mode.SYNC, PeerLoss.DEGRADE)) {
      mesh.awaitStreaming("sync");
      String done = accepted(await(mesh.west.submit(spec())));
      TestWorker worker = new TestWorker(mesh.westVertx, TwoRegions.WEST, "w-" + UUID.randomUUID(), List.of("genmesh-tiny"));
      Assignment a = await(worker.claim());
      assertThat(a.requestId()).isEqualTo(done);
      worker.step(a, 1, 3, 5.0);
      await(worker.result(done, a.attempt(), List.of(TestWorker.png(1))));
      Waits.eventually("completed in us-west", () -> "completed".equals(mesh.west.view(done).getString("status")));
      String cancelled = accepted(await(mesh.west.submit(spec())));
      assertThat(await(mesh.west.delete("/regional/v1/generations/" + cancelled)).statusCode()).isEqualTo(200);
      JsonObject westView = mesh.west.view(done);
      List<JsonObject> westEvents = mesh.west.events(done);
      assertThat(westEvents.get(westEvents.size() - 1).getString("type")).isEqualTo("completed");
      mesh.eventually("us-east's replica holds both ended", () ->
          "COMPLETED".equals(mesh.replicaRows(done).get(0).get("status"))
              && "CANCELLED".equals(mesh.replicaRows(cancelled).get(0).get("status")));

      mesh.westPg.kill();
      mesh.crashWest();
      JsonObject outcome = await(mesh.east.post(FailoverRoutes.DECISIONS,
          new JsonObject().put("region", "us-west").put("state", "down").put("reason", "test").toBuffer())).bodyAsJsonObject();
      assertThat(outcome.getInteger("adopted")).as("nothing open to adopt").isZero();

      // The status, as us-west gave it, marked as read from the replica.
      JsonObject view = mesh.east.view(done);
      assertThat(view.getString("status")).isEqualTo("completed");
      assertThat(view.getString("region")).isEqualTo("us-west");
      assertThat(view.getString("served_from")).isEqualTo("replica");
      assertThat(view.getString("served_by")).isEqualTo("us-east");
      assertThat(view.getJsonArray("images")).isEqualTo(westView.getJsonArray("images")).hasSize(1);
      assertThat(view.getString("completed_at")).isEqualTo(westView.getString("completed_at"));
      assertThat(mesh.east.view(cancelled).getString("status")).isEqualTo("cancelled");

      // Its events, polled, resumed after N, and streamed (the stream ends after the final event).
      assertThat(mesh.east.events(done)).isEqualTo(westEvents);
      long beforeLast = westEvents.get(westEvents.size() - 2).getLong("id");
      JsonObject tail = await(mesh.east.get("/regional/v1/generations/" + done + "/events?after=" + beforeLast)).bodyAsJsonObject();
      assertThat(tail.getString("status")).isEqualTo("completed");
      assertThat(tail.getJsonArray("events")).extracting(e -> ((JsonObject) e).getString("type")).containsExactly("completed");
      assertThat(await(mesh.east.stream("/regional/v1/generations/" + done + "/events?after=0"))).isEqualTo(westEvents);

      // Cancel: 409, nothing written; unknown ids of us-west stay unknown.
      HttpResponse<Buffer> cancel = await(mesh.east.delete("/regional/v1/generations/" + done));
      assertThat(cancel.statusCode()).isEqualTo(409);
      assertThat(cancel.bodyAsJsonObject().getString("code")).isEqualTo("already_terminal");
      assertThat(mesh.replicaRows(done).get(0).get("status")).isEqualTo("COMPLETED");
      assertThat(mesh.eastPg.query("SELECT id FROM requests WHERE id IN (?, ?)", done, cancelled)).isEmpty();
      String unknown = RequestIds.next(mesh.config.region(TwoRegions.WEST).code(), System.currentTimeMillis());
      for (String path : List.of("", "/events")) {
        HttpResponse<Buffer> answer = await(mesh.east.get("/regional/v1/generations/" + unknown + path));
        assertThat(answer.statusCode()).as(path).isEqualTo(404);
        assertThat(answer.bodyAsJsonObject().getString("code")).isEqualTo("not_found");
      }
      assertThat(await(mesh.east.delete("/regional/v1/generations/" + unknown)).statusCode()).isEqualTo(404);
    }
  }
}
