package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 5's worker faults with real processes and a lease (60 s) far longer than the test: a
 * SIGKILLed worker, heartbeating every 10 s (the default), leaves the region's cluster and its
 * request is re-dispatched after its retry backoff, well before heartbeats or the lease could have
 * told (cluster membership); a SIGSTOPped worker (sockets open, silent) is judged unhealthy from
 * its missed heartbeats and its request completes on the other worker. Every bound comes from the
 * configuration the processes run with. Each checks I1 and I3 over what it submitted.
 */
class WorkerLostTest {
  private static final int STEPS = 50;
  private static final long LEASE_MS = 60_000;

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void aKilledWorkersRequestIsRedispatchedThroughClusterMembershipBeforeSilenceCouldTell() {
    Fault fault = startAndCatchOneRunning(10_000);
    FaultBounds bounds = new FaultBounds(fault.region.config());
    // Membership costs the retry's backoff and a claim poll; silence (heartbeats, lease) costs far more.
    Duration membership = bounds.redispatch(1);
    Duration silence = bounds.earliestSilenceVerdict();
    assertThat(membership).as("test design: membership is the faster path").isLessThan(silence);
    Duration limit = membership.plus(silence.minus(membership).dividedBy(2));

    Instant killedAt = Instant.now();
    fault.workers.get(fault.victimWorker).kill();

    JsonObject reassigned = Sleeps.until("the request assigned again", FaultBounds.patience(silence), () ->
        assignedAfter(fault, killedAt));
    Duration redispatch = Duration.between(killedAt, Instant.parse(reassigned.getString("time")));
    System.out.printf("killed worker %s: request %s re-dispatched to %s after %d ms (membership path %d ms, limit %d ms,"
            + " silence no sooner than %d ms)%n", fault.victimWorker, fault.victimRequest, reassigned.getString("worker"),
        redispatch.toMillis(), membership.toMillis(), limit.toMillis(), silence.toMillis());
    assertThat(redispatch).as("fault to re-dispatch, halfway between the membership path and the earliest silence verdict")
        .isLessThan(limit);
    assertThat(workerState(fault, fault.victimWorker)).as("noticed through cluster membership").isEqualTo("gone");
    fault.assertAllCompletedOnceByTheSurvivor();
  }

  @Test
  void aHungWorkerIsMarkedUnhealthyAndItsRequestCompletesElsewhere() {
    Fault fault = startAndCatchOneRunning(1_000);
    FaultBounds bounds = new FaultBounds(fault.region.config());
    Instant stoppedAt = Instant.now();
    fault.workers.get(fault.victimWorker).pause();

    String state = Sleeps.until("the hung worker judged lost", FaultBounds.patience(bounds.unhealthyAfter()), () -> {
      String now = workerState(fault, fault.victimWorker);
      return Set.of("unhealthy", "gone").contains(now) ? now : null;
    });
    JsonObject reassigned = Sleeps.until("the request assigned again", FaultBounds.patience(bounds.redispatch(1)), () ->
        assignedAfter(fault, stoppedAt));
    System.out.printf("hung worker %s judged %s; request %s re-dispatched after %d ms%n", fault.victimWorker, state,
        fault.victimRequest, Duration.between(stoppedAt, Instant.parse(reassigned.getString("time"))).toMillis());
    fault.assertAllCompletedOnceByTheSurvivor();
    assertThat(fault.workers.get(fault.victimWorker).isAlive()).as("hung, not dead").isTrue();
  }

  /** One long request on one of two workers; the other is idle, so re-dispatch waits for nothing but the region. */
  private Fault startAndCatchOneRunning(long heartbeatMs) {
    FaultStores stores = FaultStores.start(dir.resolve("stores"), ProcessRegion.DATABASE);
    children.onCleanup(stores::close);
    ProcessRegion region = new ProcessRegion(children, dir, stores, LEASE_MS,
        heartbeatMs);
    Map<String, ChildProcess> workers = region.start(true, "w1", "w2");
    MeshClient api = region.client();
    Invariants invariants = new Invariants(region.imageObjects());
    MeshClient.Answer answer = api.submit(MeshClient.spec("a lighthouse in a storm", STEPS, 1024, 200));
    assertThat(answer.status()).as(answer.body()).isEqualTo(202);
    String id = invariants.record(answer);
    JsonObject running = api.awaitEarlyRun(invariants.acknowledged(), workers.keySet(), STEPS, Duration.ofSeconds(90));
    return new Fault(region, api, workers, invariants, running.getString("id"), running.getString("worker"),
        running.getInteger("attempt"));
  }

  private static JsonObject assignedAfter(Fault fault, Instant after) {
    return fault.api.events(fault.victimRequest).stream()
        .filter(e -> "assigned".equals(e.getString("type")))
        .filter(e -> Instant.parse(e.getString("time")).isAfter(after))
        .findFirst().orElse(null);
  }

  private static String workerState(Fault fault, String worker) {
    JsonArray list = fault.api.get("/regional/v1/workers").json().getJsonArray("workers");
    for (int i = 0; i < list.size(); i++) {
      if (worker.equals(list.getJsonObject(i).getString("worker_id"))) {
        return list.getJsonObject(i).getString("state");
      }
    }
    return "unknown";
  }

  private record Fault(ProcessRegion region, MeshClient api, Map<String, ChildProcess> workers, Invariants invariants,
      String victimRequest, String victimWorker, int victimAttempt) {

    String survivor() {
      return victimWorker.equals("w1") ? "w2" : "w1";
    }

    void assertAllCompletedOnceByTheSurvivor() {
      Map<String, JsonObject> finals = invariants.awaitTerminal(api, Duration.ofSeconds(180));
      invariants.assertHold(api, finals);
      invariants.assertAllCompleted(finals);
      JsonObject view = finals.get(victimRequest);
      assertThat(view.getString("worker")).isEqualTo(survivor());
      assertThat(view.getInteger("attempt")).isGreaterThan(victimAttempt);
      List<JsonObject> events = api.events(victimRequest);
      assertThat(events).filteredOn(e -> "assigned".equals(e.getString("type")))
          .extracting(e -> e.getString("worker")).startsWith(victimWorker).endsWith(survivor());
      assertThat(events).filteredOn(e -> "completed".equals(e.getString("type"))).hasSize(1);
      assertThat(events.get(events.size() - 1).getString("type")).as("last event of %s", victimRequest)
          .isEqualTo("completed");
      assertThat(events).filteredOn(e -> "queued".equals(e.getString("type"))).last()
          .satisfies(e -> assertThat(e.getString("reason")).isEqualTo("worker_lost"));
      assertThat(region.imageObjects().attempts(victimRequest)).as("attempts of %s with objects: the survivor's",
          victimRequest).containsExactly(view.getInteger("attempt"));
    }
  }
}
