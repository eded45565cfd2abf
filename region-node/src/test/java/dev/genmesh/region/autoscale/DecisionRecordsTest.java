package dev.genmesh.region.autoscale;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.autoscaler.Replacement;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.scaling.ScalingDecision;
import dev.genmesh.region.autoscale.impl.DecisionPublisher;
import dev.genmesh.region.autoscale.impl.ScalingDecisionLog;
import dev.genmesh.region.requests.impl.Migrations;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Decisions as events and as rows of the real PostgreSQL log, and replacement requests from the bus. */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class DecisionRecordsTest {
  private static TestStores stores;

  @BeforeAll
  static void start(TestStores shared) {
    stores = shared;
  }

  @Test
  void decisionsOfThePolicyArePublishedAndAnsweredBySqlByTime(Vertx vertx) throws Exception {
    String database = stores.createDatabase();
    Pool pool = stores.pool(vertx, database);
    Waits.await(new Migrations(vertx.createSharedWorkerExecutor("migrations"), pool).apply());
    ScalingDecisionLog log = new ScalingDecisionLog(pool);
    DecisionPublisher publisher = new DecisionPublisher(vertx, "us-west", log, new SimpleMeterRegistry());
    CompletableFuture<JsonObject> event = new CompletableFuture<>();
    vertx.eventBus().<JsonObject>consumer(Addresses.scalingDecisions("us-west"), m -> event.complete(m.body()));

    // What the policy decides at 10:02 on a busy morning (the policy itself: autoscaler's tests).
    Instant at = Instant.parse("2026-11-26T10:02:00Z");
    ScalingDecision.Forecast schedule = new ScalingDecision.Forecast("schedule", 60, 12, 1, 900_000, 30, 20);
    List<ScalingDecision> made = List.of(
        new ScalingDecision(at, "us-west", "L4", 20, 25, "predicted_high", ScalingDecision.DRIVER_SCHEDULE,
            "predicted_load", schedule.predictedLoad(), 0.8, 0, Map.of("predicted_load", schedule.predictedLoad()),
            schedule, Map.of("sdxl", 5), List.of()),
        new ScalingDecision(at, "us-west", "A100-80", 4, 5, "predicted_high", ScalingDecision.DRIVER_SCHEDULE,
            "predicted_load", schedule.predictedLoad(), 0.8, 0, Map.of(), schedule, Map.of(), List.of()));
    assertThat(made).isNotEmpty();
    for (ScalingDecision decision : made) {
      Waits.await(publisher.publish(decision));
      Waits.await(publisher.publish(decision)); // a re-delivery is a no-op
    }

    assertThat(ScalingDecision.fromJson(event.get(10, TimeUnit.SECONDS)).time()).isEqualTo(Instant.parse("2026-11-26T10:02:00Z"));
    // The operator's question, as in docs/autoscaling.md.
    List<Map<String, Object>> rows = stores.query(database,
        "SELECT pool, from_count, to_count, reason, driver, signal, value, threshold, forecast_source, forecast_qps"
            + " FROM scaling_decisions WHERE region = 'us-west'"
            + " AND decided_at >= '2026-11-26 10:02:00+00' AND decided_at < '2026-11-26 10:03:00+00' ORDER BY decided_at, id");
    assertThat(rows).hasSize(made.size());
    assertThat(rows).anySatisfy(row -> {
      assertThat(row).containsEntry("pool", "L4").containsEntry("reason", "predicted_high")
          .containsEntry("driver", "schedule").containsEntry("signal", "predicted_load")
          .containsEntry("forecast_source", "schedule").containsEntry("forecast_qps", 60.0);
      assertThat((Integer) row.get("to_count")).isGreaterThan((Integer) row.get("from_count"));
    });
    List<ScalingDecision> back = Waits.await(log.between("us-west", Instant.parse("2026-11-26T10:00:00Z"),
        Instant.parse("2026-11-26T10:05:00Z")));
    assertThat(back).containsExactlyInAnyOrderElementsOf(made);
    Waits.await(pool.close());
  }

  @Test
  void replacementRequestsFromTheBusReachTheNextObservationOncePerWorker(Vertx vertx) throws Exception {
    ReplacementInbox inbox = new ReplacementInbox("us-west");
    Waits.await(inbox.listen(vertx));
    JsonObject lost = new Replacement("us-west", "w-3", "L4", "gone: left the cluster").toJson();

    vertx.eventBus().publish(Addresses.replacements("us-west"), lost);
    vertx.eventBus().publish(Addresses.replacements("us-west"), lost.copy().put("reason", "unhealthy"));
    vertx.eventBus().publish(Addresses.replacements("us-west"), new JsonObject().put("junk", true));
    vertx.eventBus().publish(Addresses.replacements("eu-west"), lost.copy().put("worker_id", "elsewhere"));
    // The bus delivers on the event loop: read the inbox there too.
    List<Replacement> drained = Waits.await(vertx.timer(200).compose(v -> vertx.executeBlocking(inbox::drain)));

    assertThat(drained).singleElement().satisfies(r -> {
      assertThat(r.workerId()).isEqualTo("w-3");
      assertThat(r.gpuClass()).isEqualTo("L4");
      assertThat(r.reason()).isEqualTo("gone: left the cluster");
    });
    assertThat(inbox.drain()).isEmpty();
    Waits.await(inbox.close());
  }
}
