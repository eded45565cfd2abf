package dev.genmesh.region.queue;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.protocol.WorkerMessages;
import dev.genmesh.region.NodeUnderTest;
import dev.genmesh.region.TestRegion;
import dev.genmesh.region.TestWorker;
import dev.genmesh.testkit.ManualClock;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 3's queue semantics on real Postgres and Redis: relax share and per-user fairness (I5),
 * retries with boost, backoff and hints (I4), cancel, completed once (I3), position and ETA,
 * scheduler matching, and a run-time Redis flush (I2). Time moves by the test's clock.
 */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class QueueSemanticsTest {
  private static final String MODEL = "genmesh-tiny";
  private TestStores stores;

  private Vertx vertx;
  private String database;
  private String prefix;
  private ManualClock clock;
  private NodeUnderTest node;

  @BeforeEach
  void deploy(Vertx vertx, TestStores stores) {
    this.vertx = vertx;
    this.stores = stores;
    TestRegion.Fresh region = TestRegion.fresh(stores);
    database = region.database();
    prefix = region.prefix();
    clock = new ManualClock();
    GenmeshConfig config = TestRegion.withReapIntervalMs(region.config(), 50);
    node = await(NodeUnderTest.deploy(vertx, config, clock));
  }

  @AfterEach
  void undeploy() {
    await(node.undeploy());
  }

  private TestWorker worker(String name) {
    return new TestWorker(vertx, TestRegion.REGION, name + "-" + UUID.randomUUID(), List.of(MODEL));
  }

  private static JsonObject spec(Tier tier, String user) {
    JsonObject spec = new GenerationSpec("a kite over dunes", "", MODEL, tier, 512, 512, 3, 7, 7.5, 1).toJson();
    return user == null ? spec : spec.put("user", user);
  }

  private JsonObject submitView(JsonObject body) {
    HttpResponse<Buffer> response = await(node.submit(body));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(202);
    return response.bodyAsJsonObject();
  }

  private String submit(JsonObject body) {
    return submitView(body).getString("id");
  }

  /** Submits in order, one after another (ids and fair-queue tags follow the order). */
  private List<String> submitAll(int count, Tier tier, String user) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ids.add(submit(spec(tier, user)));
    }
    return ids;
  }

  private static int failureCode(Future<?> future) {
    return ((ReplyException) Waits.failure(future)).failureCode();
  }

  @Test
  void aTurboFloodStillGivesRelaxItsShare() {
    List<String> turbo = submitAll(150, Tier.TURBO, null);
    List<String> relax = submitAll(15, Tier.RELAX, null);
    TestWorker worker = worker("w");

    List<Assignment> dispatched = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      dispatched.add(await(worker.claim()));
    }

    List<Integer> relaxAt = IntStream.range(0, 100)
        .filter(i -> dispatched.get(i).spec().tier() == Tier.RELAX).map(i -> i + 1).boxed().toList();
    assertThat(relaxAt).as("relax gets every 10th dispatch while it has work")
        .containsExactly(10, 20, 30, 40, 50, 60, 70, 80, 90, 100);
    assertThat(dispatched.stream().filter(a -> a.spec().tier() == Tier.RELAX).map(Assignment::requestId))
        .containsExactlyElementsOf(relax.subList(0, 10));
    assertThat(dispatched.stream().filter(a -> a.spec().tier() == Tier.TURBO).map(Assignment::requestId))
        .as("turbo in submit order").containsExactlyElementsOf(turbo.subList(0, 90));
    assertThat(node.counter("genmesh.dispatches", "tier", "relax", "via", "relax_share")).isEqualTo(10.0);
    assertThat(node.counter("genmesh.dispatches", "tier", "turbo", "via", "order")).isEqualTo(90.0);
  }

  @Test
  void oneHeavyUserDoesNotStarveTheOthers() {
    List<String> heavy = submitAll(100, Tier.FAST, "heavy");
    List<String> singles = new ArrayList<>();
    for (int u = 0; u < 5; u++) {
      JsonObject accepted = submitView(spec(Tier.FAST, "light-" + u));
      singles.add(accepted.getString("id"));
      assertThat(accepted.getLong("queue_position")).as("a newcomer lands near the head, not behind 100")
          .isLessThanOrEqualTo(u + 1L);
      assertThat(accepted.getString("user")).isEqualTo("light-" + u);
    }
    assertThat(node.view(heavy.get(99)).getLong("queue_position")).isGreaterThanOrEqualTo(99L);
    TestWorker worker = worker("w");

    List<String> firstTen = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      firstTen.add(await(worker.claim()).requestId());
    }
    assertThat(firstTen).containsAll(singles);
    assertThat(firstTen.stream().filter(heavy::contains).toList()).as("the heavy user's own order is kept")
        .containsExactlyElementsOf(heavy.subList(0, 5));
    assertThat(stores.query(database, "SELECT user_id FROM requests WHERE id = ?", singles.get(0)))
        .containsExactly(java.util.Map.of("user_id", "light-0"));
  }

  @Test
  void aLapsedLeaseIsRetriedWithBoostAndBackoffThenFailsAndTheStreamSaysSo() {
    String id = submit(spec(Tier.FAST, null));
    Future<List<JsonObject>> stream = node.stream("/regional/v1/generations/" + id + "/events");
    TestWorker worker = worker("w");
    Assignment running = await(worker.claim());

    for (int retry = 1; retry <= 3; retry++) {
      // Each retry on a fresh worker: three lost leases in a row would open one worker's circuit breaker.
      worker = worker("w" + retry);
      int expected = retry;
      stores.redis("DEL", prefix + "lease:" + id);
      Waits.eventually("retry " + retry, () -> node.view(id).getInteger("retry_count") == expected);
      JsonObject view = node.view(id);
      assertThat(view.getString("status")).isEqualTo("queued");
      assertThat(view.getInteger("priority")).isEqualTo(50 * retry);
      Duration backoff = Duration.ofSeconds(1L << retry);
      assertThat(Instant.parse(view.getString("not_before"))).isEqualTo(clock.instant().plus(backoff));
      assertThat(view.getJsonObject("last_error").getString("code")).isEqualTo("lease_lost");
      assertThat(view.getValue("queue_position")).isNull();
      assertThat(stores.redis("EXISTS", prefix + "lease:" + id)).isEqualTo(":0");

      assertThat(failureCode(worker.claim())).as("backoff honoured").isEqualTo(BusFailure.NO_WORK);
      clock.advance(backoff.minusMillis(1));
      assertThat(failureCode(worker.claim())).isEqualTo(BusFailure.NO_WORK);
      clock.advance(Duration.ofMillis(1));
      Assignment again = await(worker.claim());
      assertThat(again.requestId()).isEqualTo(id);
      assertThat(again.attempt()).isEqualTo(retry + 1);
      assertThat(failureCode(worker.result(id, running.attempt(), List.of(TestWorker.png(retry)))))
          .as("the lost attempt's late result").isEqualTo(BusFailure.STALE_ATTEMPT);
      running = again;
    }
    stores.redis("DEL", prefix + "lease:" + id);
    Waits.eventually("the request to fail", () -> node.view(id).getString("status").equals("failed"));

    JsonObject failed = node.view(id);
    assertThat(failed.getInteger("retry_count")).isEqualTo(3);
    assertThat(failed.getJsonObject("error").getString("code")).isEqualTo("lease_lost");
    List<JsonObject> events = await(stream);
    assertThat(events).extracting(e -> e.getString("type")).containsExactly(
        "queued", "assigned", "queued", "assigned", "queued", "assigned", "queued", "assigned", "failed");
    assertThat(events).filteredOn(e -> e.getString("type").equals("queued")).extracting(e -> e.getInteger("retry_count"))
        .containsExactly(null, 1, 2, 3);
    assertThat(events.get(events.size() - 1).getString("code")).isEqualTo("lease_lost");
    assertThat(node.counter("genmesh.leases.lost")).isEqualTo(4.0);
    assertThat(node.counter("genmesh.retries", "reason", "lease_lost")).isEqualTo(3.0);
    assertThat(node.counter("genmesh.results.discarded", "kind", "result")).isEqualTo(3.0);
    assertThat(node.counter("genmesh.requests", "status", "failed")).isEqualTo(1.0);
  }

  @Test
  void oomGoesToALargerWorkerAndCorruptionToAnotherUntilTheHoldLapses() {
    TestWorker small = new TestWorker(vertx, TestRegion.REGION, "small", List.of(MODEL), "cpu", 4000);
    TestWorker large = new TestWorker(vertx, TestRegion.REGION, "large", List.of(MODEL), "cpu", 6000);
    String oom = submit(spec(Tier.FAST, null).put("batch_size", 2));
    Assignment first = await(small.claim());
    await(small.fail(first, "oom", "out of memory"));
    clock.advance(Duration.ofSeconds(2));
    assertThat(failureCode(small.claim())).as("not larger than the worker that ran out").isEqualTo(BusFailure.NO_WORK);
    Assignment retry = await(large.claim());
    assertThat(retry.requestId()).isEqualTo(oom);
    assertThat(retry.spec().batchSize()).isEqualTo(1);

    String corrupt = submit(spec(Tier.FAST, null));
    Assignment onLarge = await(large.claim());
    await(large.fail(onLarge, "model_corrupted", "checksum mismatch"));
    clock.advance(Duration.ofSeconds(2));
    assertThat(failureCode(large.claim())).as("not the same worker").isEqualTo(BusFailure.NO_WORK);
    assertThat(await(small.claim()).requestId()).isEqualTo(corrupt);
    assertThat(node.view(corrupt).getJsonArray("routing_hints")).containsExactly("different_worker");

    // With no other worker around, the hint lapses after the routing hold: nothing waits forever.
    String lonely = submit(spec(Tier.FAST, null));
    Assignment once = await(small.claim());
    await(small.fail(once, "model_corrupted", "checksum mismatch"));
    clock.advance(Duration.ofSeconds(2));
    assertThat(failureCode(small.claim())).isEqualTo(BusFailure.NO_WORK);
    clock.advance(Duration.ofMillis(60_000));
    assertThat(await(small.claim()).requestId()).isEqualTo(lonely);
  }

  @Test
  void claimsFollowTheRoutingMatrixMemoryAndLoadedModels() {
    JsonObject highRes = new GenerationSpec("a wide valley", "", MODEL, Tier.FAST, 1280, 1280, 3, 7, 7.5, 1).toJson();
    String big = submit(highRes);
    TestWorker l4 = new TestWorker(vertx, TestRegion.REGION, "l4", List.of(MODEL), "L4", 24_000);
    TestWorker h100 = new TestWorker(vertx, TestRegion.REGION, "h100", List.of(MODEL), "H100", 80_000);
    assertThat(failureCode(l4.claim())).as("high_res needs A100-80 or H100").isEqualTo(BusFailure.NO_WORK);
    assertThat(await(h100.claim()).requestId()).isEqualTo(big);

    String needsMemory = submit(spec(Tier.FAST, null));
    TestWorker tiny = new TestWorker(vertx, TestRegion.REGION, "tiny", List.of(MODEL), "cpu", 100);
    assertThat(failureCode(tiny.claim())).as("estimate 391 MB > 100 MB free").isEqualTo(BusFailure.NO_WORK);
    clock.advance(Duration.ofMillis(60_000));
    assertThat(await(tiny.claim()).requestId()).as("after the routing hold").isEqualTo(needsMemory);

    String modelX = submit(spec(Tier.FAST, null).put("model", "model-x"));
    String modelY = submit(spec(Tier.FAST, null).put("model", "model-y"));
    TestWorker any = new TestWorker(vertx, TestRegion.REGION, "any", List.of(), "cpu", 8192);
    any.heartbeat(List.of(), List.of("model-y"));
    Waits.eventually("the heartbeat", () -> node.node.knownWorkers().stream().anyMatch(w -> w.workerId().equals("any")));
    assertThat(await(any.claim()).requestId()).as("the model it holds first").isEqualTo(modelY);
    assertThat(await(any.claim()).requestId()).isEqualTo(modelX);
  }

  @Test
  void aBatchClaimGetsOnlyTheSameBatchKeyWithinItsRoomAndAPlainClaimTheHead() {
    GenerationSpec eightSteps = new GenerationSpec("a lantern", "", MODEL, Tier.FAST, 512, 512, 8, 1, 7.5, 1);
    String other = submit(spec(Tier.FAST, null).put("steps", 4)); // another batch key, at the head
    String two = submit(eightSteps.toJson().put("prompt", "two lanterns").put("batch_size", 2));
    String one = submit(eightSteps.toJson().put("prompt", "one lantern").put("seed", 9));
    TestWorker worker = worker("w");
    WorkerMessages.BatchHint roomForOne = WorkerMessages.BatchHint.of(eightSteps, 1);

    Assignment joined = await(worker.claim(roomForOne));
    assertThat(joined.requestId()).as("same key, batch_size within the room; not the head").isEqualTo(one);
    assertThat(roomForOne.matches(joined.spec())).isTrue();
    assertThat(failureCode(worker.claim(roomForOne))).as("batch_size 2 > room 1, and the head has another key")
        .isEqualTo(BusFailure.NO_WORK);
    WorkerMessages.BatchHint otherGuidance = WorkerMessages.BatchHint.of(
        new GenerationSpec("x", "", MODEL, Tier.FAST, 512, 512, 8, 1, 5.0, 1), 4);
    assertThat(failureCode(worker.claim(otherGuidance))).as("no request with that key").isEqualTo(BusFailure.NO_WORK);

    assertThat(await(worker.claim()).requestId()).as("a plain claim takes the head").isEqualTo(other);
    assertThat(await(worker.claim(WorkerMessages.BatchHint.of(eightSteps, 2))).requestId()).isEqualTo(two);
    assertThat(failureCode(worker.claim())).isEqualTo(BusFailure.NO_WORK);
  }

  @Test
  void cancelQueuedDelayedAndRunningRequestsAndDiscardTheLateResult() {
    String queued = submit(spec(Tier.RELAX, null));
    HttpResponse<Buffer> cancelled = await(node.delete("/regional/v1/generations/" + queued));
    assertThat(cancelled.statusCode()).isEqualTo(200);
    assertThat(cancelled.bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
    assertThat(stores.redis("ZSCORE", prefix + "queue:relax", queued)).isEqualTo("$-1");
    assertThat(node.events(queued)).extracting(e -> e.getString("type")).containsExactly("queued", "cancelled");
    HttpResponse<Buffer> again = await(node.delete("/regional/v1/generations/" + queued));
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(again.bodyAsJsonObject().getString("code")).isEqualTo("already_terminal");
    assertThat(await(node.delete("/regional/v1/generations/usw_" + "0".repeat(26))).statusCode()).isEqualTo(404);
    TestWorker worker = worker("w");
    assertThat(failureCode(worker.claim())).isEqualTo(BusFailure.NO_WORK);

    String delayed = submit(spec(Tier.FAST, null));
    await(worker.fail(await(worker.claim()), "gpu_error", "Xid 79"));
    assertThat(stores.redis("ZSCORE", prefix + "delayed", delayed)).isNotEqualTo("$-1");
    assertThat(await(node.delete("/regional/v1/generations/" + delayed)).statusCode()).isEqualTo(200);
    assertThat(stores.redis("ZSCORE", prefix + "delayed", delayed)).isEqualTo("$-1");
    clock.advance(Duration.ofSeconds(5));
    assertThat(failureCode(worker.claim())).isEqualTo(BusFailure.NO_WORK);

    List<JsonObject> cancels = new CopyOnWriteArrayList<>();
    MessageConsumer<JsonObject> listener = vertx.eventBus().consumer(Addresses.cancel(TestRegion.REGION),
        message -> cancels.add(message.body()));
    await(listener.completion());
    String running = submit(spec(Tier.TURBO, null));
    Assignment assignment = await(worker.claim());
    worker.step(assignment, 1, 3, 10.0);
    Future<List<JsonObject>> stream = node.stream("/regional/v1/generations/" + running + "/events");
    assertThat(await(node.delete("/regional/v1/generations/" + running)).bodyAsJsonObject().getString("status"))
        .isEqualTo("cancelled");
    Waits.eventually("the cancel message", () -> !cancels.isEmpty());
    assertThat(cancels.get(0).getString("request_id")).isEqualTo(running);
    assertThat(await(stream).get(await(stream).size() - 1).getString("type")).isEqualTo("cancelled");

    assertThat(failureCode(worker.result(running, assignment.attempt(), List.of(TestWorker.png(1)))))
        .isEqualTo(BusFailure.STALE_ATTEMPT);
    assertThat(await(worker.fail(assignment, "cancelled", "stopped at step 2")).getString("status")).isEqualTo("cancelled");
    assertThat(node.view(running).getString("status")).isEqualTo("cancelled");
    assertThat(node.view(running).getJsonArray("images")).isEmpty();
    assertThat(stores.query(database, "SELECT 1 FROM request_events WHERE request_id = ? AND type = 'completed'", running))
        .isEmpty();
    assertThat(node.counter("genmesh.results.discarded", "kind", "result")).isEqualTo(1.0);
    assertThat(node.counter("genmesh.requests", "status", "cancelled")).isEqualTo(3.0);
    await(listener.unregister());
  }

  @Test
  void queuePositionAndEtaFollowTheQueueAndMeasuredSteps() {
    submitAll(3, Tier.TURBO, null);
    submit(spec(Tier.FAST, null));
    JsonObject last = submitView(spec(Tier.FAST, null));
    String id = last.getString("id");
    assertThat(last.getLong("queue_position")).isEqualTo(4L);
    assertThat(last.getValue("eta_ms")).as("no step measured yet").isNull();

    TestWorker worker = worker("w");
    Assignment running = await(worker.claim());
    worker.step(running, 1, 3, 100.0);
    worker.step(running, 2, 3, 100.0);
    Waits.eventually("the steps", () -> node.meters.find("genmesh.step.time").timers().stream()
        .mapToLong(t -> t.count()).sum() == 2);

    JsonObject view = node.view(id);
    assertThat(view.getLong("queue_position")).isEqualTo(3L);
    // 3 ahead x (3 steps x 100 ms) over 1 worker, plus its own 300 ms.
    assertThat(view.getLong("eta_ms")).isEqualTo(1200L);
    JsonObject next = submitView(spec(Tier.RELAX, null));
    assertThat(next.getLong("queue_position")).as("relax: bounded by its share").isEqualTo(4L);
    List<JsonObject> events = node.events(next.getString("id"));
    assertThat(events.get(0).getLong("queue_position")).isEqualTo(4L);
    assertThat(events.get(0).getLong("eta_ms")).isNotNull().isPositive();
  }

  @Test
  void aRedisFlushAtRunTimeIsRebuiltAndEveryRequestCompletes() {
    List<String> ids = new ArrayList<>();
    for (Tier tier : Tier.values()) {
      ids.addAll(submitAll(2, tier, "u-" + tier.wireName()));
    }
    TestWorker alive = worker("alive");
    TestWorker silent = worker("silent");
    Assignment kept = await(alive.claim());
    Assignment lost = await(silent.claim());
    alive.heartbeat(List.of(kept.requestId()));
    Waits.eventually("the heartbeat", () -> node.node.knownWorkers().stream().anyMatch(w -> w.workerId().equals(alive.id)));

    assertThat(stores.redis("FLUSHALL")).isEqualTo("+OK");
    Waits.eventually("the rebuild", () -> node.counter("genmesh.queue.rebuilds", "trigger", "keys_lost") >= 1);

    assertThat(stores.redis("GET", prefix + "lease:" + kept.requestId())).as("restored for the live worker").endsWith(alive.id);
    JsonObject retried = node.view(lost.requestId());
    assertThat(retried.getString("status")).isEqualTo("queued");
    assertThat(retried.getInteger("retry_count")).isEqualTo(1);
    assertThat(node.counter("genmesh.leases.restored")).isEqualTo(1.0);
    await(alive.result(kept.requestId(), kept.attempt(), List.of(TestWorker.png(1))));

    clock.advance(Duration.ofSeconds(2));
    TestWorker finisher = worker("finisher");
    for (Assignment next = await(finisher.claimOrNull()); next != null; next = await(finisher.claimOrNull())) {
      await(finisher.result(next.requestId(), next.attempt(), List.of(TestWorker.png(2))));
    }
    assertThat(failureCode(silent.result(lost.requestId(), lost.attempt(), List.of(TestWorker.png(3)))))
        .isEqualTo(BusFailure.STALE_ATTEMPT);
    assertThat(stores.query(database, "SELECT status, count(*) AS n FROM requests GROUP BY status"))
        .containsExactly(java.util.Map.of("status", "COMPLETED", "n", 6L));
    assertThat(node.view(kept.requestId()).getInteger("attempt")).as("kept running, not re-queued").isEqualTo(1);
    assertThat(Set.copyOf(ids)).hasSize(6);
  }
}
