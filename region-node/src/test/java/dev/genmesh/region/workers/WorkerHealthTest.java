package dev.genmesh.region.workers;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.protocol.WorkerMessages.Heartbeat;
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
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Worker health on real Postgres and Redis (issue 5): a silent worker turns unhealthy and a
 * worker whose cluster member left is gone; either way its request is handed back at once, it is
 * told to stop, a replacement is asked for, an alert is raised, and it gets no new work. A worker
 * that is not ready or drains gets no work either. Time moves by the test's clock.
 */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class WorkerHealthTest {
  private static final String MODEL = "genmesh-tiny";
  private static TestStores stores;

  private Vertx vertx;
  private ManualClock clock;
  private NodeUnderTest node;
  private final List<JsonObject> cancels = new CopyOnWriteArrayList<>();
  private final List<JsonObject> replacements = new CopyOnWriteArrayList<>();
  private final List<JsonObject> alerts = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void startStores(TestStores shared) {
    stores = shared;
  }


  @BeforeEach
  void deploy(Vertx vertx) {
    this.vertx = vertx;
    clock = new ManualClock();
    GenmeshConfig config = TestRegion.config(stores, stores.createDatabase(), TestStores.newKeyPrefix());
    node = await(NodeUnderTest.deploy(vertx, config, clock));
    vertx.eventBus().<JsonObject>consumer(Addresses.cancel(TestRegion.REGION), m -> cancels.add(m.body()));
    vertx.eventBus().<JsonObject>consumer(Addresses.replacements(TestRegion.REGION), m -> replacements.add(m.body()));
    vertx.eventBus().<JsonObject>consumer(Addresses.ALERTS, m -> alerts.add(m.body()));
  }

  @AfterEach
  void undeploy() {
    await(node.undeploy());
  }

  private String submit() {
    JsonObject spec = new GenerationSpec("a harbour at dawn", "", MODEL, Tier.FAST, 512, 512, 3, 7, 7.5, 1).toJson();
    return await(node.submit(spec)).bodyAsJsonObject().getString("id");
  }

  private void beat(String worker, boolean ready, boolean draining, List<String> active) {
    clock.advance(Duration.ofMillis(1)); // each heartbeat distinct, so the wait below sees this one
    vertx.eventBus().publish(Addresses.heartbeat(TestRegion.REGION), new Heartbeat(worker, TestRegion.REGION,
        "cpu", 8192, 8192, List.of(MODEL), 0.1, active, clock.millis(), Map.of(), ready, true, 4, "node-" + worker,
        draining).toJson());
    Waits.eventually(worker + "'s heartbeat", () -> node.node.knownWorkers().stream()
        .anyMatch(w -> w.workerId().equals(worker) && w.activeRequests().equals(active) && w.lastSeen().toEpochMilli() == clock.millis()));
  }

  private WorkerState state(String worker) {
    return node.node.knownWorkers().stream().filter(w -> w.workerId().equals(worker)).findFirst().orElseThrow().state();
  }

  private static int failureCode(Future<?> future) {
    return ((ReplyException) Waits.failure(future)).failureCode();
  }

  private TestWorker worker(String id) {
    return new TestWorker(vertx, TestRegion.REGION, id, List.of(MODEL));
  }

  @Test
  void aSilentWorkerTurnsUnhealthyAndItsRequestIsHandedBackAtOnce() {
    String id = submit();
    TestWorker hung = worker("hung");
    beat("hung", true, false, List.of());
    Assignment first = await(hung.claim());
    assertThat(first.requestId()).isEqualTo(id);
    beat("hung", true, false, List.of(id));

    clock.advance(Duration.ofSeconds(30)); // 3 heartbeats missed (10 s each); the lease (30 s) is not the trigger
    Waits.eventually("the worker judged unhealthy", () -> state("hung") == WorkerState.UNHEALTHY);
    Waits.eventually("the request handed back", () -> "queued".equals(node.view(id).getString("status")));
    JsonObject view = node.view(id);
    assertThat(view.getInteger("retry_count")).isEqualTo(1);
    assertThat(node.events(id)).filteredOn(e -> "queued".equals(e.getString("type"))).last()
        .satisfies(e -> assertThat(e.getString("reason")).isEqualTo("worker_lost"));
    Waits.eventually("the cancel, replacement and alert", () -> !cancels.isEmpty() && !replacements.isEmpty() && !alerts.isEmpty());
    assertThat(cancels).extracting(c -> c.getString("request_id")).containsExactly(id);
    assertThat(replacements.get(0).getString("worker_id")).isEqualTo("hung");
    assertThat(alerts.get(0).getString("type")).isEqualTo("worker_unhealthy");

    assertThat(failureCode(hung.claim())).as("an unhealthy worker gets no work").isEqualTo(BusFailure.NO_WORK);
    clock.advance(Duration.ofSeconds(2)); // the retry's backoff
    TestWorker other = worker("other");
    Assignment second = await(other.claim());
    assertThat(second.requestId()).isEqualTo(id);
    assertThat(second.attempt()).isGreaterThan(first.attempt());
    assertThat(await(hung.result(id, first.attempt(), List.of(TestWorker.png(1)))
        .map(ok -> -1).recover(err -> Future.succeededFuture(((ReplyException) err).failureCode()))))
        .as("the hung worker's late result is discarded").isEqualTo(BusFailure.STALE_ATTEMPT);
    await(other.result(id, second.attempt(), List.of(TestWorker.png(2))));
    assertThat(node.view(id).getString("status")).isEqualTo("completed");
  }

  @Test
  void aWorkerWhoseClusterMemberLeftIsGoneAndItsRequestHandedBackWithoutWaiting() {
    String id = submit();
    TestWorker dead = worker("dead");
    beat("dead", true, false, List.of());
    Assignment first = await(dead.claim());
    beat("dead", true, false, List.of(id));

    node.node.memberLeft("node-dead");
    Waits.eventually("the worker gone", () -> state("dead") == WorkerState.GONE);
    Waits.eventually("the request handed back", () -> "queued".equals(node.view(id).getString("status")));
    assertThat(alerts).extracting(a -> a.getString("type")).contains("worker_gone");
    assertThat(failureCode(dead.claim())).isEqualTo(BusFailure.NO_WORK);
    JsonObject workers = await(node.get("/regional/v1/workers")).bodyAsJsonObject();
    assertThat(workers.getJsonArray("workers").getJsonObject(0).getString("state")).isEqualTo("gone");
    assertThat(first.attempt()).isEqualTo(1);
  }

  @Test
  void aWorkerThatReportsItselfNotLiveHasItsRequestHandedBack() {
    String id = submit();
    TestWorker wedged = worker("wedged");
    beat("wedged", true, false, List.of());
    Assignment first = await(wedged.claim());
    clock.advance(Duration.ofMillis(1));
    vertx.eventBus().publish(Addresses.heartbeat(TestRegion.REGION), new Heartbeat("wedged", TestRegion.REGION,
        "cpu", 8192, 8192, List.of(MODEL), 1.0, List.of(id), clock.millis(), Map.of(), true, false, 4, "node-wedged",
        false).toJson());
    Waits.eventually("the worker not live", () -> state("wedged") == WorkerState.NOT_LIVE);
    Waits.eventually("the request handed back", () -> "queued".equals(node.view(id).getString("status")));
    assertThat(cancels).extracting(c -> c.getString("request_id")).containsExactly(id);
    assertThat(failureCode(wedged.claim())).isEqualTo(BusFailure.NO_WORK);
    assertThat(first.attempt()).isEqualTo(1);
  }

  @Test
  void notReadyAndDrainingWorkersGetNoWork() {
    String id = submit();
    TestWorker warming = worker("warming");
    beat("warming", false, false, List.of());
    assertThat(failureCode(warming.claim())).isEqualTo(BusFailure.NO_WORK);
    beat("warming", true, true, List.of());
    assertThat(state("warming")).isEqualTo(WorkerState.DRAINING);
    assertThat(failureCode(warming.claim())).isEqualTo(BusFailure.NO_WORK);
    beat("warming", true, false, List.of());
    assertThat(await(warming.claim()).requestId()).isEqualTo(id);
    assertThat(replacements).as("not ready and draining need no replacement").isEmpty();
  }
}
