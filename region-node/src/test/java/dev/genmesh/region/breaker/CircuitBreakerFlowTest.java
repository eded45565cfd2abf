package dev.genmesh.region.breaker;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.BreakerConfig;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.QueueConfig;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.FailureType;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.region.NodeUnderTest;
import dev.genmesh.region.TestRegion;
import dev.genmesh.region.TestWorker;
import dev.genmesh.region.queue.RetryPolicy;
import dev.genmesh.testkit.ManualClock;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The circuit breakers in a running region node on real Postgres and Redis, with virtual workers
 * on the event bus: model breaker → fallback, worker breaker → no claims, hand-back and a
 * replacement, global breaker → relax then fast shed with 503 and Retry-After; alerts on
 * {@code genmesh.alerts}. Breaker time moves by the test's clock.
 */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class CircuitBreakerFlowTest {
  private static final String TINY = "genmesh-tiny";
  private static final String SMALL = "genmesh-small";
  private static TestStores stores;

  private Vertx vertx;
  private String database;
  private ManualClock clock;
  private NodeUnderTest node;
  private GenmeshConfig config;
  private final List<JsonObject> alerts = new CopyOnWriteArrayList<>();
  private final List<JsonObject> replacements = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void startStores(TestStores shared) {
    stores = shared;
  }


  private void deploy(Vertx vertx, BreakerConfig breakers) {
    deploy(vertx, breakers, null);
  }

  /** @param maxRetries {@code queue.max_retries} (null: the default) */
  private void deploy(Vertx vertx, BreakerConfig breakers, Integer maxRetries) {
    this.vertx = vertx;
    database = stores.createDatabase();
    clock = new ManualClock();
    config = TestRegion.withReapIntervalMs(TestRegion.config(stores, database, TestStores.newKeyPrefix()), 50)
        .withBreakers(breakers);
    if (maxRetries != null) {
      QueueConfig q = config.queue();
      config = TestRegion.withQueue(config, new QueueConfig(q.leaseMs(), maxRetries, q.retryPriorityBoost(),
          q.backoffCapMs(), q.relaxShare(), q.leaseReapIntervalMs(), q.routingHoldMs()));
    }
    vertx.eventBus().<JsonObject>consumer(Addresses.ALERTS, m -> alerts.add(m.body()));
    vertx.eventBus().<JsonObject>consumer(Addresses.replacements(TestRegion.REGION), m -> replacements.add(m.body()));
    node = await(NodeUnderTest.deploy(vertx, config, clock));
  }

  @AfterEach
  void undeploy() {
    if (node != null) {
      await(node.undeploy());
    }
  }

  private TestWorker worker(String name, String... models) {
    return new TestWorker(vertx, TestRegion.REGION, name + "-" + UUID.randomUUID(), List.of(models));
  }

  private static JsonObject spec(String model, Tier tier, boolean allowFallback) {
    return new GenerationSpec("a lantern in fog", "", model, tier, 512, 512, 3, 7, 7.5, 1, null, 1.0, null, 1.0, 0,
        allowFallback).toJson();
  }

  private String submit(JsonObject body) {
    HttpResponse<Buffer> response = await(node.submit(body));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(202);
    return response.bodyAsJsonObject().getString("id");
  }

  private static int failureCode(Future<?> future) {
    return ((ReplyException) Waits.failure(future)).failureCode();
  }

  private String column(String id, String column) {
    return String.valueOf(stores.query(database, "SELECT " + column + " FROM requests WHERE id = ?", id).get(0).get(column));
  }

  private List<JsonObject> alertsOf(String kind) {
    return alerts.stream().filter(a -> "breaker".equals(a.getString("type")) && kind.equals(a.getString("kind"))).toList();
  }

  private static String change(JsonObject alert) {
    return alert.getString("name") + " " + alert.getString("from") + "->" + alert.getString("to");
  }

  @Test
  void fiveFailuresOfAModelMoveItsFallbackRequestsAndTheOthersWaitForHalfOpen(Vertx vertx) {
    deploy(vertx, new BreakerConfig(new BreakerConfig.Breaker(5, 3, 60_000, 1),
        new BreakerConfig.Breaker(100, 2, 30_000, 1), new BreakerConfig.GlobalBreaker(1.0, 60_000)));
    TestWorker tinyWorker = worker("tiny", TINY);
    TestWorker smallWorker = worker("small", SMALL);
    smallWorker.heartbeat(List.of(), List.of(SMALL)); // the fallback must be served by a live worker
    List<String> victims = List.of(submit(spec(TINY, Tier.TURBO, false)), submit(spec(TINY, Tier.TURBO, false)),
        submit(spec(TINY, Tier.TURBO, false)), submit(spec(TINY, Tier.TURBO, false)), submit(spec(TINY, Tier.TURBO, false)));
    for (int i = 0; i < 4; i++) {
      await(tinyWorker.fail(await(tinyWorker.claim()), FailureType.MODEL_CORRUPTED, "checksum mismatch"));
    }
    String waiting = submit(spec(TINY, Tier.FAST, true));
    String stays = submit(spec(TINY, Tier.FAST, false));
    assertThat(node.node.breakers().modelState(TINY).wireName()).isEqualTo("closed");

    Assignment fifth = await(tinyWorker.claim());
    assertThat(victims).contains(fifth.requestId());
    await(tinyWorker.fail(fifth, FailureType.ERROR, "model failed to load"));

    // Open: the queued request that allows it moves to genmesh-small, with a fallback event.
    assertThat(node.node.breakers().modelState(TINY).wireName()).isEqualTo("open");
    Waits.eventually("the queued request moved to the fallback", () -> SMALL.equals(column(waiting, "model")));
    assertThat(node.events(waiting)).anySatisfy(event -> {
      assertThat(event.getString("type")).isEqualTo("fallback");
      assertThat(event.getString("from")).isEqualTo(TINY);
      assertThat(event.getString("to")).isEqualTo(SMALL);
      assertThat(event.getString("reason")).isEqualTo("model genmesh-tiny circuit open");
    });
    assertThat(column(stays, "model")).isEqualTo(TINY);
    Waits.eventually("the open alert", () -> !alertsOf("model").isEmpty());
    assertThat(alertsOf("model")).singleElement().satisfies(alert -> {
      assertThat(change(alert)).isEqualTo("genmesh-tiny closed->open");
      assertThat(alert.getString("region")).isEqualTo(TestRegion.REGION);
      assertThat(alert.getString("at")).isEqualTo(clock.instant().toString());
    });
    assertThat(node.counter("genmesh.breaker.transitions", "kind", "model", "name", TINY, "from", "closed", "to", "open"))
        .isEqualTo(1.0);
    assertThat(node.meters.get("genmesh.breaker.state").tags("kind", "model", "name", TINY).gauge().value()).isEqualTo(2.0);

    // A new submit while open goes straight to the fallback; the 202 says so.
    HttpResponse<Buffer> fresh = await(node.submit(spec(TINY, Tier.FAST, true)));
    assertThat(fresh.statusCode()).isEqualTo(202);
    String freshId = fresh.bodyAsJsonObject().getString("id");
    assertThat(fresh.bodyAsJsonObject().getString("model")).isEqualTo(SMALL);
    assertThat(node.events(freshId)).extracting(e -> e.getString("type")).containsExactly("queued", "fallback");

    // Nothing of the open model is handed out; the fallback requests run on the fallback's worker.
    victims.forEach(id -> await(node.delete("/regional/v1/generations/" + id)));
    assertThat(failureCode(tinyWorker.claim())).isEqualTo(BusFailure.NO_WORK);
    Assignment movedRun = await(smallWorker.claim());
    assertThat(movedRun.requestId()).isEqualTo(waiting);
    assertThat(movedRun.spec().model()).isEqualTo(SMALL);
    assertThat(await(smallWorker.result(waiting, movedRun.attempt(), List.of(TestWorker.png(1)))).getString("status"))
        .isEqualTo("completed");
    assertThat(await(smallWorker.claim()).requestId()).isEqualTo(freshId);

    // Half-open after 60 s: the waiting request runs as the one trial; a second claim gets nothing.
    clock.advance(Duration.ofMillis(60_000));
    Assignment trial = await(tinyWorker.claim());
    assertThat(trial.requestId()).isEqualTo(stays);
    assertThat(trial.spec().model()).isEqualTo(TINY);
    String another = submit(spec(TINY, Tier.FAST, false));
    assertThat(failureCode(worker("other", TINY).claim())).as("one trial at a time").isEqualTo(BusFailure.NO_WORK);
    await(tinyWorker.result(stays, trial.attempt(), List.of(TestWorker.png(2))));
    assertThat(await(tinyWorker.claim()).requestId()).as("the trial reported: the next one may go").isEqualTo(another);
    Waits.eventually("the half-open alert", () -> alertsOf("model").size() == 2);
    assertThat(alertsOf("model")).extracting(CircuitBreakerFlowTest::change)
        .containsExactly("genmesh-tiny closed->open", "genmesh-tiny open->half_open");
  }

  @Test
  void anOpenWorkerGetsNoClaimsItsUnstartedWorkGoesBackAndAReplacementIsAskedFor(Vertx vertx) {
    deploy(vertx, new BreakerConfig(new BreakerConfig.Breaker(100, 3, 60_000, 1),
        new BreakerConfig.Breaker(3, 2, 30_000, 1), new BreakerConfig.GlobalBreaker(1.0, 60_000)));
    TestWorker broken = worker("broken", TINY);
    TestWorker healthy = worker("healthy", TINY);
    broken.heartbeat(List.of(), List.of(TINY));
    List<String> ids = List.of(submit(spec(TINY, Tier.FAST, false)), submit(spec(TINY, Tier.FAST, false)),
        submit(spec(TINY, Tier.FAST, false)), submit(spec(TINY, Tier.FAST, false)));

    await(broken.fail(await(broken.claim()), FailureType.GPU_ERROR, "Xid 79"));
    await(broken.fail(await(broken.claim()), FailureType.GPU_ERROR, "Xid 79"));
    Assignment held = await(broken.claim()); // assigned, never started
    Assignment third = await(broken.claim());
    assertThat(column(held.requestId(), "status")).isEqualTo("ASSIGNED");
    await(broken.fail(third, FailureType.GPU_ERROR, "Xid 79"));

    assertThat(node.node.breakers().workerState(broken.id).wireName()).isEqualTo("open");
    Waits.eventually("the held request is handed back", () -> "QUEUED".equals(column(held.requestId(), "status")));
    assertThat(column(held.requestId(), "retry_count")).as("a hand-back is not a retry").isEqualTo("0");
    assertThat(node.events(held.requestId())).last().satisfies(event -> {
      assertThat(event.getString("type")).isEqualTo("queued");
      assertThat(event.getString("reason")).isEqualTo("worker_breaker_open");
    });
    Waits.eventually("a replacement is asked for", () -> !replacements.isEmpty());
    assertThat(replacements).singleElement().isEqualTo(new JsonObject().put("region", TestRegion.REGION)
        .put("worker_id", broken.id).put("reason", "worker_breaker_open").put("gpu_class", "cpu"));
    assertThat(failureCode(broken.claim())).isEqualTo(BusFailure.NO_WORK);

    // Another worker runs it at once (the failed ones wait out their backoff), as the next attempt.
    Assignment rerun = await(healthy.claim());
    assertThat(rerun.requestId()).isEqualTo(held.requestId());
    assertThat(rerun.attempt()).isEqualTo(held.attempt() + 1);
    assertThat(failureCode(broken.result(held.requestId(), held.attempt(), List.of(TestWorker.png(3)))))
        .as("what the old worker hands in is stale").isEqualTo(BusFailure.STALE_ATTEMPT);
    assertThat(ids).contains(rerun.requestId());
    Waits.eventually("the worker alert", () -> !alertsOf("worker").isEmpty());
    assertThat(alertsOf("worker")).extracting(CircuitBreakerFlowTest::change)
        .containsExactly(broken.id + " closed->open");

    // Half-open after 30 s: one claim at a time; two successes close it. The worker heartbeats on meanwhile
    // (else the region's sweep, once a second, may judge its 30 s of silence first and refuse its claims).
    clock.advance(Duration.ofMillis(30_000));
    broken.heartbeat(List.of(), List.of(TINY));
    Assignment trial = await(broken.claim());
    assertThat(failureCode(broken.claim())).isEqualTo(BusFailure.NO_WORK);
    await(broken.result(trial.requestId(), trial.attempt(), List.of(TestWorker.png(4))));
    Assignment second = await(broken.claim());
    await(broken.result(second.requestId(), second.attempt(), List.of(TestWorker.png(5))));
    assertThat(node.node.breakers().workerState(broken.id).wireName()).isEqualTo("closed");
    Waits.eventually("half-open and closed alerts", () -> alertsOf("worker").size() == 3);
    assertThat(alertsOf("worker")).extracting(CircuitBreakerFlowTest::change).containsExactly(
        broken.id + " closed->open", broken.id + " open->half_open", broken.id + " half_open->closed");
  }

  @Test
  void aHighFailureRateShedsRelaxThenFastWith503AndRetryAfterButNeverTurbo(Vertx vertx) {
    // No retries: every failure below fails its request for good, which is what the global breaker counts.
    deploy(vertx, new BreakerConfig(new BreakerConfig.Breaker(100, 3, 60_000, 1),
        new BreakerConfig.Breaker(100, 2, 30_000, 1), new BreakerConfig.GlobalBreaker(0.10, 60_000, 6, 7_000)), 0);
    TestWorker w = worker("w", TINY);
    for (int i = 0; i < 5; i++) {
      submit(spec(TINY, Tier.TURBO, false));
    }
    String failing = submit(spec(TINY, Tier.TURBO, false));
    for (int i = 0; i < 5; i++) {
      Assignment a = await(w.claim());
      await(w.result(a.requestId(), a.attempt(), List.of(TestWorker.png(i))));
    }
    HttpResponse<Buffer> before = await(node.submit(spec(TINY, Tier.RELAX, false).put("idempotency_key", "relax-before")));
    assertThat(before.statusCode()).as("below the minimum of 6 outcomes").isEqualTo(202);
    String acceptedBefore = before.bodyAsJsonObject().getString("id");
    Assignment bad = await(w.claim());
    assertThat(bad.requestId()).isEqualTo(failing);
    await(w.fail(bad, FailureType.ERROR, "boom")); // 1 of 6: 17 %, above 10 %, below 20 %

    HttpResponse<Buffer> relax = await(node.submit(spec(TINY, Tier.RELAX, false)));
    assertThat(relax.statusCode()).isEqualTo(503);
    HttpResponse<Buffer> retried = await(node.submit(spec(TINY, Tier.RELAX, false).put("idempotency_key", "relax-before")));
    assertThat(retried.statusCode()).as("a retry of a submit accepted before the shedding is answered, not shed")
        .isEqualTo(202);
    assertThat(retried.bodyAsJsonObject().getString("id")).isEqualTo(acceptedBefore);
    assertThat(await(node.submit(spec(TINY, Tier.RELAX, false).put("idempotency_key", "relax-new"))).statusCode())
        .as("a new key is shed like any submit").isEqualTo(503);
    assertThat(relax.getHeader("Retry-After")).isEqualTo("7");
    assertThat(relax.bodyAsJsonObject().getString("code")).isEqualTo("overloaded");
    assertThat(relax.bodyAsJsonObject().getString("message")).contains("relax");
    assertThat(await(node.submit(spec(TINY, Tier.FAST, false))).statusCode()).isEqualTo(202);
    assertThat(await(node.submit(spec(TINY, Tier.TURBO, false))).statusCode()).isEqualTo(202);

    // Two more failures: 3 of 8, above twice the rate: fast is shed too, turbo still taken.
    for (int i = 0; i < 2; i++) {
      Assignment a = await(w.claim());
      await(w.fail(a, FailureType.GPU_ERROR, "Xid 79"));
    }
    HttpResponse<Buffer> fast = await(node.submit(spec(TINY, Tier.FAST, false)));
    assertThat(fast.statusCode()).isEqualTo(503);
    assertThat(fast.bodyAsJsonObject().getString("code")).isEqualTo("overloaded");
    assertThat(await(node.submit(spec(TINY, Tier.TURBO, false))).statusCode()).isEqualTo(202);
    assertThat(stores.query(database, "SELECT count(*) AS n FROM requests WHERE tier = 'relax'"))
        .as("a shed submit is not committed").containsExactly(Map.of("n", 1L));
    assertThat(node.counter("genmesh.breaker.shed", "tier", "relax")).as("two refused; the answered retry is not counted")
        .isEqualTo(2.0);
    assertThat(node.counter("genmesh.breaker.shed", "tier", "fast")).isEqualTo(1.0);

    Waits.eventually("global and shedding alerts", () -> alerts.size() >= 3);
    assertThat(alertsOf("global")).extracting(CircuitBreakerFlowTest::change).containsExactly("global closed->open");
    assertThat(alerts).filteredOn(a -> "shedding".equals(a.getString("type")))
        .extracting(a -> a.getJsonArray("tiers").getList())
        .containsExactly(List.of("relax"), List.of("fast", "relax"));

    // The failures leave the window: after it, nothing is shed and the breaker closes.
    clock.advance(Duration.ofMillis(61_000));
    assertThat(await(node.submit(spec(TINY, Tier.RELAX, false))).statusCode()).isEqualTo(202);
    assertThat(node.node.breakers().globalState().wireName()).isEqualTo("closed");
  }

  @Test
  void refusalsRetriedOnAnotherWorkerDoNotShedTheRegionButRequestsThatFailForGoodDo(Vertx vertx) {
    deploy(vertx, new BreakerConfig(new BreakerConfig.Breaker(100, 3, 60_000, 1),
        new BreakerConfig.Breaker(100, 2, 30_000, 1), new BreakerConfig.GlobalBreaker(0.10, 60_000, 6, 7_000)));
    TestWorker broken = worker("broken", TINY);
    TestWorker healthy = worker("healthy", TINY);
    // A worker that cannot load the model refuses three requests; each is retried on the other worker and completes.
    for (int i = 0; i < 3; i++) {
      String id = submit(spec(TINY, Tier.TURBO, false));
      Assignment refused = await(broken.claim());
      assertThat(refused.requestId()).isEqualTo(id);
      await(broken.fail(refused, FailureType.MODEL_LOAD_FAILED, "weights failed verification"));
      Assignment retry = claimAfterBackoff(healthy, 1);
      assertThat(retry.requestId()).isEqualTo(id);
      assertThat(await(healthy.result(id, retry.attempt(), List.of(TestWorker.png(i)))).getString("status"))
          .isEqualTo("completed");
    }
    for (int i = 0; i < 3; i++) {
      String id = submit(spec(TINY, Tier.TURBO, false));
      Assignment a = await(healthy.claim());
      await(healthy.result(id, a.attempt(), List.of(TestWorker.png(10 + i))));
    }
    // Six requests, all completed: three refusals among nine attempts (33 %) are no failure of the region.
    assertThat(node.node.breakers().globalFailureRate()).isZero();
    HttpResponse<Buffer> relax = await(node.submit(spec(TINY, Tier.RELAX, false)));
    assertThat(relax.statusCode()).as(relax.bodyAsString()).isEqualTo(202);
    Assignment relaxRun = await(healthy.claim());
    await(healthy.result(relaxRun.requestId(), relaxRun.attempt(), List.of(TestWorker.png(20))));

    // A request that fails on every attempt fails for good: 1 of 8 requests, above 10 %, relax is shed.
    String doomed = submit(spec(TINY, Tier.TURBO, false));
    Assignment attempt = await(healthy.claim());
    int maxRetries = config.queue().maxRetries();
    for (int retry = 0; retry < maxRetries; retry++) {
      await(healthy.fail(attempt, FailureType.ERROR, "boom"));
      assertThat(node.node.breakers().shed(Tier.RELAX)).as("retry %d pending: no request failed yet", retry + 1).isEmpty();
      attempt = claimAfterBackoff(healthy, retry + 1);
      assertThat(attempt.requestId()).isEqualTo(doomed);
    }
    await(healthy.fail(attempt, FailureType.ERROR, "boom"));
    Waits.eventually("the request failed for good", () -> "FAILED".equals(column(doomed, "status")));
    HttpResponse<Buffer> shed = await(node.submit(spec(TINY, Tier.RELAX, false)));
    assertThat(shed.statusCode()).isEqualTo(503);
    assertThat(shed.bodyAsJsonObject().getString("code")).isEqualTo("overloaded");
  }

  /** Moves the clock past the backoff of retry number {@code retry} and claims it once the reaper has promoted it. */
  private Assignment claimAfterBackoff(TestWorker worker, int retry) {
    clock.advance(new RetryPolicy(config.queue(), clock).backoff(retry));
    Assignment[] claimed = new Assignment[1];
    Waits.eventually("the retry claimable after its backoff", () -> (claimed[0] = await(worker.claimOrNull())) != null);
    return claimed[0];
  }
}
