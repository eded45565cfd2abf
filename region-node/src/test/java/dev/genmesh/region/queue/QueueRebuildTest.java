package dev.genmesh.region.queue;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.region.NodeUnderTest;
import dev.genmesh.region.TestRegion;
import dev.genmesh.region.TestWorker;
import dev.genmesh.testkit.ManualClock;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Restarts: Redis rebuilt from the log (docs/architecture.md, I2), in-flight work kept, migrations once. */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class QueueRebuildTest {
  private static final String MODEL = "genmesh-tiny";
  private static TestStores stores;

  @TempDir
  Path images;

  @BeforeAll
  static void startStores(TestStores shared) {
    stores = shared;
  }


  private static JsonObject spec(Tier tier) {
    return new GenerationSpec("a lighthouse at dusk", "", MODEL, tier, 512, 512, 2, 7, 7.5, 1).toJson();
  }

  private static String submit(NodeUnderTest node, Tier tier) {
    return await(node.submit(spec(tier))).bodyAsJsonObject().getString("id");
  }

  @Test
  void restartWithFlushedRedisRequeuesFromTheLog(Vertx vertx) {
    String database = stores.createDatabase();
    String prefix = TestStores.newKeyPrefix();
    GenmeshConfig config = TestRegion.config(stores, database, prefix);
    TestWorker lost = new TestWorker(vertx, TestRegion.REGION, "w-lost-" + UUID.randomUUID(), List.of(MODEL));
    TestWorker fresh = new TestWorker(vertx, TestRegion.REGION, "w-fresh-" + UUID.randomUUID(), List.of(MODEL));

    NodeUnderTest first = await(NodeUnderTest.deploy(vertx, config));
    String fast = submit(first, Tier.FAST);
    String relax = submit(first, Tier.RELAX);
    String turbo = submit(first, Tier.TURBO);
    Assignment running = await(lost.claim());
    assertThat(running.requestId()).isEqualTo(turbo);
    lost.step(running, 1, 2, 8.0);
    Waits.eventually("the first step to be stored", () -> !stores.query(database,
        "SELECT 1 FROM requests WHERE id = ? AND status = 'GENERATING'", turbo).isEmpty());
    await(first.undeploy());

    assertThat(stores.redis("FLUSHALL")).isEqualTo("+OK");
    ManualClock clock = new ManualClock();
    NodeUnderTest second = await(NodeUnderTest.deploy(vertx, config, clock));

    // The running request lost its lease with the flush (its worker is silent): a retry, after a backoff.
    JsonObject requeued = second.view(turbo);
    assertThat(requeued.getString("status")).isEqualTo("queued");
    assertThat(requeued.getInteger("attempt")).isEqualTo(1);
    assertThat(requeued.getInteger("retry_count")).isEqualTo(1);
    assertThat(requeued.getInteger("priority")).isEqualTo(50);
    assertThat(requeued.getJsonObject("last_error").getString("code")).isEqualTo("lease_lost");
    assertThat(requeued.getValue("queue_position")).as("waiting out its backoff").isNull();
    clock.advance(java.time.Duration.ofSeconds(2));

    Assignment retry = await(fresh.claim());
    assertThat(retry.requestId()).isEqualTo(turbo);
    assertThat(retry.attempt()).isEqualTo(2);
    Throwable late = Waits.failure(lost.result(turbo, running.attempt(), List.of(TestWorker.png(1))));
    assertThat(((ReplyException) late).failureCode()).isEqualTo(BusFailure.STALE_ATTEMPT);
    await(fresh.result(turbo, retry.attempt(), List.of(TestWorker.png(2))));

    assertThat(await(fresh.claim()).requestId()).isEqualTo(fast);
    assertThat(await(fresh.claim()).requestId()).isEqualTo(relax);
    assertThat(((ReplyException) Waits.failure(fresh.claim())).failureCode()).isEqualTo(BusFailure.NO_WORK);

    List<JsonObject> events = await(second.stream("/regional/v1/generations/" + turbo + "/events?after=0"));
    assertThat(events).extracting(e -> e.getString("type"))
        .containsExactly("queued", "assigned", "step", "queued", "assigned", "safety_pending", "completed");
    assertThat(events.get(3).getInteger("retry_count")).isEqualTo(1);
    assertThat(events.get(3).getString("reason")).isEqualTo("lease_lost");
    assertThat(events.get(4).getInteger("attempt")).isEqualTo(2);
    await(second.undeploy());
  }

  @Test
  void restartKeepsRequestsWhoseLeaseIsAlive(Vertx vertx) {
    String database = stores.createDatabase();
    GenmeshConfig config = TestRegion.config(stores, database, TestStores.newKeyPrefix());
    TestWorker worker = new TestWorker(vertx, TestRegion.REGION, "w-" + UUID.randomUUID(), List.of(MODEL));

    NodeUnderTest first = await(NodeUnderTest.deploy(vertx, config));
    String id = submit(first, Tier.FAST);
    Assignment assignment = await(worker.claim());
    await(first.undeploy());

    NodeUnderTest second = await(NodeUnderTest.deploy(vertx, config));
    JsonObject view = await(second.get("/regional/v1/generations/" + id)).bodyAsJsonObject();
    assertThat(view.getString("status")).isEqualTo("assigned");
    assertThat(view.getString("worker")).isEqualTo(worker.id);
    assertThat(((ReplyException) Waits.failure(worker.claim())).failureCode()).isEqualTo(BusFailure.NO_WORK);
    await(worker.result(id, assignment.attempt(), List.of(TestWorker.png(5))));
    assertThat(await(second.get("/regional/v1/generations/" + id)).bodyAsJsonObject().getString("status"))
        .isEqualTo("completed");
    await(second.undeploy());
  }

  @Test
  void twoNodesStartingAtOnceMigrateOnce(Vertx vertx) {
    String database = stores.createDatabase();
    GenmeshConfig config = TestRegion.config(stores, database, TestStores.newKeyPrefix());

    Future<NodeUnderTest> a = NodeUnderTest.deploy(vertx, config);
    Future<NodeUnderTest> b = NodeUnderTest.deploy(vertx, config);
    await(Future.all(a, b));

    // Every version of the INDEX, each once (versions may have gaps: V10 follows V3).
    List<String> listed = dev.genmesh.region.requests.impl.Migrations.load().stream().map(m -> m.version() + ":" + m.name()).toList();
    assertThat(listed).startsWith("1:requests", "2:request_events", "3:fair_queues_and_retries").contains("10:scaling_decisions");
    assertThat(stores.query(database, "SELECT version, name FROM schema_migrations ORDER BY version"))
        .extracting(row -> row.get("version") + ":" + row.get("name"))
        .containsExactlyElementsOf(listed);
    String id = submit(a.result(), Tier.FAST);
    assertThat(await(b.result().get("/regional/v1/generations/" + id)).statusCode()).isEqualTo(200);
    await(a.result().undeploy());
    await(b.result().undeploy());

    // A restart applies nothing again.
    NodeUnderTest again = await(NodeUnderTest.deploy(vertx, config));
    assertThat(stores.query(database, "SELECT version FROM schema_migrations")).hasSize(listed.size());
    await(again.undeploy());
  }
}
