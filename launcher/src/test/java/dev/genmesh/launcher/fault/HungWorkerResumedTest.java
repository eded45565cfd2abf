package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker hangs mid-request (SIGSTOP): its lease lapses and the region runs the request again on
 * the other worker. Then the hung worker resumes (SIGCONT), finishes its stale attempt and hands
 * its images in late. The region refuses them before they touch the disk and counts them
 * ({@code genmesh_results_discarded_total}); the request completes once, with the survivor's one
 * image set. The region judges workers by silence only after 30 s here, so the lease, not the
 * worker's health, is what moves the request.
 */
class HungWorkerResumedTest {
  private static final int STEPS = 50;
  private static final ProcessRegion.Timings TIMINGS = ProcessRegion.Timings.FAST
      .withHealth(10_000, 30_000)
      // A short backoff keeps the hang short: Hazelcast drops a member silent for 10 s, and then its
      // late result would not reach the region at all.
      .withBackoffCap(500);

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void theLateResultOfAResumedWorkerIsRefusedCountedAndNeverWrittenAndTheRequestCompletesOnce() {
    FaultStores stores = FaultStores.start(dir.resolve("stores"), ProcessRegion.DATABASE);
    children.onCleanup(stores::close);
    ProcessRegion region = new ProcessRegion(children, dir, stores, TIMINGS);
    FaultBounds bounds = new FaultBounds(region.config());
    Duration leasePath = bounds.leaseLapse().plus(bounds.redispatch(1));
    assertThat(leasePath).as("test design: the lease moves the request before the region would judge the silence")
        .isLessThan(bounds.unhealthyAfter().minus(Duration.ofMillis(region.config().worker().heartbeatIntervalMs())));
    Map<String, ChildProcess> workers = region.start(true, "w1", "w2");
    MeshClient api = region.client();
    Invariants invariants = new Invariants(region.imageObjects());

    MeshClient.Answer answer = api.submit(MeshClient.spec("a lighthouse in a storm", STEPS, 1024, 4242));
    assertThat(answer.status()).as(answer.body()).isEqualTo(202);
    String id = invariants.record(answer);
    JsonObject running = api.awaitEarlyRun(List.of(id), workers.keySet(), STEPS, Duration.ofSeconds(90));
    String hung = running.getString("worker");
    String survivor = hung.equals("w1") ? "w2" : "w1";
    int staleAttempt = running.getInteger("attempt");
    assertThat(discardedResults(api)).as("results refused before the fault").isZero();

    Instant stoppedAt = Instant.now();
    workers.get(hung).pause();
    JsonObject reassigned = Sleeps.until(id + " assigned to " + survivor, FaultBounds.patience(leasePath), () ->
        api.events(id).stream()
            .filter(e -> "assigned".equals(e.getString("type")) && survivor.equals(e.getString("worker")))
            .filter(e -> Instant.parse(e.getString("time")).isAfter(stoppedAt))
            .findFirst().orElse(null));
    workers.get(hung).resume();
    System.out.printf("worker %s hung at attempt %d of %s; attempt %d on %s after %d ms%n", hung, staleAttempt, id,
        reassigned.getInteger("attempt"), survivor,
        Duration.between(stoppedAt, Instant.parse(reassigned.getString("time"))).toMillis());
    assertThat(api.events(id)).filteredOn(e -> "queued".equals(e.getString("type"))).last()
        .satisfies(e -> assertThat(e.getString("reason")).as("why it was queued again").isEqualTo("lease_lost"));
    assertThat(workerState(api, hung)).as("the hung worker was not judged by its silence").isEqualTo("healthy");

    // The resumed worker finishes its stale attempt and hands the images in: the region says no.
    workers.get(hung).awaitLine(Pattern.compile(Pattern.quote("[" + id + "] result of attempt " + staleAttempt
        + " discarded by the region")), Duration.ofSeconds(120));
    region.node().awaitLine(Pattern.compile(Pattern.quote("request " + id + ": result of stale attempt " + staleAttempt
        + " from worker " + hung + " discarded")), Duration.ofSeconds(30));

    Map<String, JsonObject> finals = invariants.awaitTerminal(api, Duration.ofSeconds(180));
    invariants.assertHold(api, finals);
    invariants.assertAllCompleted(finals);
    JsonObject view = finals.get(id);
    assertThat(view.getString("worker")).as("worker that completed %s", id).isEqualTo(survivor);
    assertThat(view.getInteger("attempt")).isEqualTo(reassigned.getInteger("attempt")).isGreaterThan(staleAttempt);
    assertThat(discardedResults(api)).as("late results refused and counted").isEqualTo(1.0);
    // The stale attempt's objects were its own keys, never the served ones; its worker deleted them when refused.
    int completing = view.getInteger("attempt");
    Sleeps.until("the stale attempt's objects of " + id + " deleted", Duration.ofSeconds(30),
        () -> region.imageObjects().attempts(id).equals(new java.util.TreeSet<>(List.of(completing))) ? true : null);
    assertThat(workers.get(hung).isAlive()).as("the resumed worker lives on").isTrue();
    assertThat(workerState(api, hung)).isEqualTo("healthy");
  }

  /** {@code genmesh_results_discarded_total{kind="result"}} of the region, from its {@code /metrics}. */
  private static double discardedResults(MeshClient api) {
    MeshClient.Answer metrics = api.get("/metrics");
    assertThat(metrics.status()).isEqualTo(200);
    return Metrics.sum(metrics.body(), "genmesh_results_discarded_total", Map.of("kind", "result"));
  }

  private static String workerState(MeshClient api, String worker) {
    JsonArray list = api.get("/regional/v1/workers").json().getJsonArray("workers");
    for (int i = 0; i < list.size(); i++) {
      if (worker.equals(list.getJsonObject(i).getString("worker_id"))) {
        return list.getJsonObject(i).getString("state");
      }
    }
    return "unknown";
  }
}
