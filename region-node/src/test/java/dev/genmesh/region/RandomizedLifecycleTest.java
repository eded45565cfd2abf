package dev.genmesh.region;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.testkit.ManualClock;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Many requests through random claim / step / complete / fail / lose-lease / late-result / cancel
 * interleavings by several virtual workers acting at once over the event bus, then everything is
 * driven to an end and the invariants (docs/architecture.md, I1–I5) are checked over the log, the
 * events and the dispatch audit stream. The seed (printed on failure; set it with
 * -Dgenmesh.seed=N) replays the choices; the timing of concurrent actions is the machine's.
 */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class RandomizedLifecycleTest {
  private static final int REQUESTS = 300;
  private static final int MAX_RETRIES = 3;
  private static final int CHAOS_ROUNDS_AFTER_ARRIVALS = 80;
  private static final double RELAX_SHARE = 0.10;
  private static final String MODEL = "genmesh-tiny";
  private static final List<String> FAILURES = List.of("oom", "gpu_error", "error", "model_corrupted");
  private static TestStores stores;

  @BeforeAll
  static void startStores(TestStores shared) {
    stores = shared;
  }


  /** One virtual worker: what it runs now and attempts it lost (their results come late). */
  private static final class Virtual {
    final TestWorker bus;
    Assignment current;
    final List<Assignment> lost = new ArrayList<>();

    Virtual(TestWorker bus) {
      this.bus = bus;
    }
  }

  /** Results the node answered {@code completed}: the request's one result. */
  private final Map<String, AtomicInteger> acceptedResults = new ConcurrentHashMap<>();
  /**
   * Results taken to the safety check that had not completed the request when the worker got its
   * answer: still waiting ({@code safety_pending}), or cancelled while the check ran ({@code cancelled}).
   */
  private final Map<String, AtomicInteger> pendingResults = new ConcurrentHashMap<>();
  private final AtomicInteger staleResults = new AtomicInteger();

  @Test
  void randomInterleavingsKeepInvariantsOneToFive(Vertx vertx) {
    long seed = Long.getLong("genmesh.seed", System.nanoTime());
    try {
      run(vertx, new Random(seed));
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError("randomized lifecycle failed with seed " + seed + " (-Dgenmesh.seed=" + seed + "): "
          + e.getMessage(), e);
    }
  }

  private void run(Vertx vertx, Random random) {
    String database = stores.createDatabase();
    String prefix = TestStores.newKeyPrefix();
    // Circuit breakers off: the random failure rates here are far above 10 %, and shed submits or
    // refused claims are not what this test is about (CircuitBreakerFlowTest covers them).
    GenmeshConfig config = TestRegion.withReapIntervalMs(
        TestRegion.withLeaseMs(TestRegion.config(stores, database, prefix), 120_000), 20).withBreakers(TestRegion.NO_BREAKERS);
    ManualClock clock = new ManualClock();
    NodeUnderTest node = await(NodeUnderTest.deploy(vertx, config, clock));
    List<Virtual> workers = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      workers.add(new Virtual(new TestWorker(vertx, TestRegion.REGION, "v" + i, List.of(MODEL), "cpu", 6000 + 2000L * i)));
    }
    List<String> accepted = new ArrayList<>();
    long started = System.nanoTime();

    // The random phase: arrivals, worker actions at once, cancels, time passing; then more chaos
    // on what is left.
    for (int after = 0; accepted.size() < REQUESTS || after < CHAOS_ROUNDS_AFTER_ARRIVALS; ) {
      if (accepted.size() < REQUESTS) {
        accepted.addAll(submitSome(node, random, Math.min(REQUESTS - accepted.size(), 1 + random.nextInt(8))));
      } else {
        after++;
      }
      List<Future<?>> round = new ArrayList<>();
      for (Virtual worker : workers) {
        round.add(act(worker, random, prefix, true));
      }
      if (random.nextInt(8) == 0) {
        round.add(node.delete("/regional/v1/generations/" + accepted.get(random.nextInt(accepted.size()))));
      }
      await(Future.all(round));
      if (random.nextInt(10) == 0) {
        clock.advance(Duration.ofMillis(random.nextInt(4000)));
      }
    }

    System.out.printf("randomized lifecycle: chaos phase done after %d ms%n", (System.nanoTime() - started) / 1_000_000);
    // Drive everything to an end: workers only complete; time passes backoffs and routing holds.
    for (int rounds = 0; openRequests(database) > 0 || workers.stream().anyMatch(w -> w.current != null); rounds++) {
      assertThat(rounds).as("rounds to drain the queues").isLessThan(5000);
      List<Future<?>> round = new ArrayList<>();
      for (Virtual worker : workers) {
        round.add(act(worker, random, prefix, false));
      }
      await(Future.all(round));
      clock.advance(Duration.ofSeconds(30));
    }
    for (Virtual worker : workers) {
      for (Assignment late : worker.lost) {
        lateResult(worker, late);
      }
    }
    await(node.undeploy());
    System.out.printf("randomized lifecycle: drained after %d ms%n", (System.nanoTime() - started) / 1_000_000);

    checkInvariants(database, prefix, accepted, node, vertx);
  }

  private static List<String> submitSome(NodeUnderTest node, Random random, int count) {
    List<Future<String>> submits = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int pick = random.nextInt(10);
      Tier tier = pick < 3 ? Tier.TURBO : pick < 7 ? Tier.FAST : Tier.RELAX;
      JsonObject body = new GenerationSpec("random " + i, "", MODEL, tier, 512, 512, 3, random.nextInt(1000), 7.5,
          1 + random.nextInt(2)).toJson().put("user", "user-" + random.nextInt(8));
      submits.add(node.submit(body).map(response -> {
        if (response.statusCode() != 202) {
          throw new AssertionError("submit answered " + response.statusCode() + ": " + response.bodyAsString());
        }
        return response.bodyAsJsonObject().getString("id");
      }));
    }
    await(Future.all(submits));
    return submits.stream().map(Future::result).toList();
  }

  /** One action of one worker; {@code chaos} false only claims and completes. */
  private Future<?> act(Virtual worker, Random random, String prefix, boolean chaos) {
    if (worker.current == null) {
      if (chaos && !worker.lost.isEmpty() && random.nextInt(4) == 0) {
        return lateResult(worker, worker.lost.remove(random.nextInt(worker.lost.size())));
      }
      return worker.bus.claimOrNull().onSuccess(assignment -> worker.current = assignment);
    }
    Assignment running = worker.current;
    int pick = chaos ? random.nextInt(20) : 19;
    if (pick < 5) {
      worker.bus.step(running, 1 + random.nextInt(3), 3, 5 + random.nextInt(20));
      return Future.succeededFuture();
    }
    worker.current = null;
    if (pick < 9) {
      return worker.bus.fail(running.requestId(), running.attempt(), FAILURES.get(random.nextInt(FAILURES.size())), "random")
          .recover(RandomizedLifecycleTest::staleIsFine);
    }
    if (pick < 12) {
      stores.redis("DEL", prefix + "lease:" + running.requestId());
      worker.lost.add(running);
      return Future.succeededFuture();
    }
    return sendResult(worker, running);
  }

  private Future<?> lateResult(Virtual worker, Assignment late) {
    return sendResult(worker, late);
  }

  private Future<?> sendResult(Virtual worker, Assignment assignment) {
    return worker.bus.result(assignment.requestId(), assignment.attempt(), List.of(TestWorker.png(assignment.attempt())))
        .onSuccess(reply -> ("completed".equals(reply.getString("status")) ? acceptedResults : pendingResults)
            .computeIfAbsent(assignment.requestId(), id -> new AtomicInteger()).incrementAndGet())
        .recover(err -> {
          if (err instanceof ReplyException re && re.failureCode() == BusFailure.STALE_ATTEMPT) {
            staleResults.incrementAndGet();
          }
          return staleIsFine(err);
        });
  }

  /** A report about an attempt that moved on (cancelled, lease lost) is refused; anything else fails the test. */
  private static <T> Future<T> staleIsFine(Throwable err) {
    return err instanceof ReplyException re && re.failureCode() == BusFailure.STALE_ATTEMPT
        ? Future.succeededFuture() : Future.failedFuture(err);
  }

  private static long openRequests(String database) {
    return (Long) stores.query(database,
        "SELECT count(*) AS n FROM requests WHERE status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED')").get(0).get("n");
  }

  private void checkInvariants(String database, String prefix, List<String> accepted, NodeUnderTest node, Vertx vertx) {
    Map<String, Map<String, Object>> rows = new HashMap<>();
    stores.query(database, "SELECT id, status, retry_count, error_code, last_event_seq FROM requests")
        .forEach(row -> rows.put((String) row.get("id"), row));
    Map<String, Long> completedEvents = new HashMap<>();
    stores.query(database, "SELECT request_id, count(*) AS n FROM request_events WHERE type = 'completed' GROUP BY request_id")
        .forEach(row -> completedEvents.put((String) row.get("request_id"), (Long) row.get("n")));
    Map<String, Long> retryEvents = new HashMap<>();
    stores.query(database, "SELECT request_id, count(*) AS n FROM request_events"
            + " WHERE type = 'queued' AND data->>'retry_count' IS NOT NULL GROUP BY request_id")
        .forEach(row -> retryEvents.put((String) row.get("request_id"), (Long) row.get("n")));
    assertThat(stores.query(database, "SELECT request_id FROM request_events GROUP BY request_id"
        + " HAVING count(*) <> max(seq) OR max(seq) <> (SELECT last_event_seq FROM requests r WHERE r.id = request_id)"))
        .as("every stream numbered 1..n without gaps").isEmpty();

    assertThat(Set.copyOf(accepted)).hasSize(REQUESTS);
    Map<String, Integer> byStatus = new HashMap<>();
    for (String id : accepted) {
      Map<String, Object> row = rows.get(id);
      assertThat(row).as("I1: accepted request %s is in the log", id).isNotNull();
      String status = (String) row.get("status");
      byStatus.merge(status, 1, Integer::sum);
      // I1: every accepted request ended, a failure with its reason.
      assertThat(status).as("I1: %s ended", id).isIn("COMPLETED", "FAILED", "CANCELLED");
      if (status.equals("FAILED")) {
        assertThat(row.get("error_code")).as("I1/I4: %s failed with a reason", id).isNotNull();
      }
      // I3: completed exactly once, and only completed requests accepted a result.
      // A result taken while the safety check had not answered yet may end CANCELLED (a cancel
      // during SAFETY_PENDING) or COMPLETED (the sweeper's check); never twice.
      int results = acceptedResults.getOrDefault(id, new AtomicInteger()).get();
      int pending = pendingResults.getOrDefault(id, new AtomicInteger()).get();
      long completions = completedEvents.getOrDefault(id, 0L);
      if (status.equals("COMPLETED")) {
        assertThat(results + pending).as("I3: results accepted for %s", id).isEqualTo(1);
        assertThat(completions).as("I3: completed events of %s", id).isEqualTo(1L);
      } else {
        assertThat(results + completions).as("I3: %s (%s) took no result", id, status).isZero();
        assertThat(pending).as("I3: %s (%s) took at most one result to its safety check", id, status).isLessThanOrEqualTo(1);
      }
      // I4: bounded retries, each one told on the stream.
      int retries = (Integer) row.get("retry_count");
      assertThat(retries).as("I4: retries of %s", id).isLessThanOrEqualTo(MAX_RETRIES);
      assertThat(retryEvents.getOrDefault(id, 0L)).as("I4: retry events of %s", id).isEqualTo((long) retries);
    }
    System.out.printf("randomized lifecycle: %s, %d stale results discarded, %s retries%n", byStatus, staleResults.get(),
        rows.values().stream().mapToInt(r -> (Integer) r.get("retry_count")).sum());
    assertThat(byStatus.get("COMPLETED")).as("statuses " + byStatus).isGreaterThan(REQUESTS / 3);
    assertThat(node.counter("genmesh.results.discarded", "kind", "result")).isEqualTo((double) staleResults.get());

    checkDispatchOrder(vertx, prefix);
  }

  /** I5 over the claim script's audit stream: tier order, and relax's share while it had work. */
  private static void checkDispatchOrder(Vertx vertx, String prefix) {
    Redis redis = Redis.createClient(vertx, stores.redisUrl());
    try {
      Response entries = await(RedisAPI.api(redis).xrange(List.of(prefix + "dispatches", "-", "+")));
      long withRelaxWaiting = 0;
      long relaxDispatched = 0;
      long relaxPassedOver = 0;
      assertThat(entries.size()).isGreaterThan(REQUESTS / 2);
      for (Response entry : entries) {
        Map<String, String> d = new HashMap<>();
        Response fields = entry.get(1);
        for (int i = 0; i + 1 < fields.size(); i += 2) {
          d.put(fields.get(i).toString(), fields.get(i + 1).toString());
        }
        String tier = d.get("tier");
        Set<String> skipped = Set.of(d.get("skipped").split(","));
        // The claim counts relax, the tier it dispatched from and every tier it looked at before that one.
        assertThat(d).as("dispatch %s", d).containsKeys(tier, "relax");
        if (d.get("via").equals("relax_share")) {
          assertThat(tier).as("I5: a relax-share dispatch %s", d).isEqualTo("relax");
        } else if (tier.equals("fast")) {
          assertThat(d).as("dispatch %s", d).containsKey("turbo");
          boolean turboWaiting = Long.parseLong(d.get("turbo")) > 0 && !skipped.contains("turbo");
          assertThat(turboWaiting).as("I5: fast dispatched while turbo could go %s", d).isFalse();
        } else if (tier.equals("relax")) {
          assertThat(d).as("dispatch %s", d).containsKeys("turbo", "fast");
          boolean turboWaiting = Long.parseLong(d.get("turbo")) > 0 && !skipped.contains("turbo");
          boolean fastWaiting = Long.parseLong(d.get("fast")) > 0 && !skipped.contains("fast");
          assertThat(turboWaiting || fastWaiting).as("I5: relax out of order %s", d).isFalse();
        }
        if (Long.parseLong(d.get("relax")) > 0) {
          withRelaxWaiting++;
          relaxDispatched += tier.equals("relax") ? 1 : 0;
          relaxPassedOver += skipped.contains("relax") ? 1 : 0;
        }
      }
      assertThat(relaxDispatched).as("I5: relax share over %d dispatches with relax waiting (%d passed over)",
          withRelaxWaiting, relaxPassedOver)
          .isGreaterThanOrEqualTo((long) Math.floor(withRelaxWaiting * RELAX_SHARE) - relaxPassedOver - 1);
    } finally {
      redis.close();
    }
  }
}
