package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15's network-partition finding, at process level: one of a region's two worker processes
 * is frozen (SIGSTOP, sockets open) for longer than Hazelcast waits for a silent member, under a
 * steady load, then thawed. The frozen worker must not take its region's cluster down with it: the
 * healthy worker keeps heartbeating, claiming and handing in results (none of its attempts ends
 * {@code worker_lost} or {@code lease_lost}), every request submitted while the other is frozen
 * (but those still queued when it thaws, which it may take) completes on it with at most the one
 * retry that moves it off the frozen worker; once thawed, the
 * worker rejoins the cluster and serves again, and nothing is lost or done twice. Timings of
 * {@code bench/chaos/chaos.yaml}.
 */
class FrozenWorkerTest {
  private static final int STEPS = 10;
  /** Longer than the region clusters' {@code hazelcast.max.no.heartbeat.seconds} (RegionCluster): the member is dropped. */
  private static final Duration FROZEN = Duration.ofSeconds(15);
  private static final ProcessRegion.Timings TIMINGS = ProcessRegion.Timings.FAST.withLease(5000);
  /**
   * For the thawed worker to serve again: Hazelcast's split-brain merge (every 5 s here, RegionCluster;
   * its defaults, 300 s then 120 s, would keep it out for minutes), its heartbeats, a claim. A wait, not a measure.
   */
  private static final Duration REJOIN_PATIENCE = Duration.ofSeconds(120);
  /** How long before the thaw a submit may still wait in the queue (w2 busy with the one before) and go to w1. */
  private static final Duration UNCLAIMED_AT_THAW = Duration.ofSeconds(2);

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void aFrozenWorkerDoesNotStallTheRegionItsPeerServesEverythingAndNothingIsDoneTwice() {
    FaultStores stores = FaultStores.start(dir.resolve("stores"), ProcessRegion.DATABASE);
    children.onCleanup(stores::close);
    ProcessRegion region = new ProcessRegion(children, dir, stores, TIMINGS);
    Map<String, ChildProcess> workers = region.start(true, "w1", "w2");
    MeshClient api = region.client();
    Invariants invariants = new Invariants(region.imageObjects());

    // Both workers serve before the fault, so the frozen one holds work and the cluster is settled.
    Instant frozenAt;
    Instant thawingAt;
    Instant thawedAt;
    List<SteadyLoad.Submit> submits;
    try (SteadyLoad load = new SteadyLoad(api, 2, Duration.ofMillis(1500), STEPS)) {
      Sleeps.until("both workers completed a request", Duration.ofSeconds(120), () -> {
        long served = load.acknowledged().stream().map(api::view).filter(a -> a.status() == 200)
            .map(a -> a.json().getString("worker")).filter(w -> w != null).distinct().count();
        return served >= 2 ? true : null;
      });
      frozenAt = Instant.now();
      workers.get("w1").pause();
      Sleeps.pause(FROZEN);
      thawingAt = Instant.now();
      workers.get("w1").resume();
      thawedAt = Instant.now();
      // Dropped from the cluster while frozen, the thawed worker finds itself alone: it must rejoin and serve.
      Instant thawed = thawedAt;
      String served;
      try {
        served = Sleeps.until("w1 completes a request again after the thaw", REJOIN_PATIENCE, () ->
            load.acknowledged().stream().map(api::view).filter(a -> a.status() == 200).map(MeshClient.Answer::json)
                .filter(v -> "w1".equals(v.getString("worker")) && v.getString("completed_at") != null)
                .filter(v -> Instant.parse(v.getString("completed_at")).isAfter(thawed))
                .map(v -> v.getString("id")).findFirst().orElse(null));
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "; " + rejoinStory(workers.get("w1")), e);
      }
      System.out.printf("w1 thawed and completed %s %d ms later%n", served,
          Duration.between(thawedAt, Instant.now()).toMillis());
      submits = load.submits();
    }
    submits.forEach(s -> invariants.record(s.answer()));
    assertThat(submits).as("every submit acknowledged").allSatisfy(s -> assertThat(s.answer().status())
        .as(s.answer().body()).isEqualTo(202));

    Map<String, JsonObject> finals = invariants.awaitTerminal(api, Duration.ofSeconds(240));
    invariants.assertHold(api, finals);
    invariants.assertAllCompleted(finals);

    SoftAssertions soft = new SoftAssertions();
    int during = 0;
    for (SteadyLoad.Submit submit : submits) {
      JsonObject view = finals.get(submit.id());
      List<JsonObject> events = api.events(submit.id());
      Duration latency = Duration.between(submit.at(), Instant.parse(view.getString("completed_at")));
      // An attempt on the healthy worker that ended lost: the frozen member took the cluster with it.
      JsonObject lastAssigned = null;
      for (JsonObject event : events) {
        if ("assigned".equals(event.getString("type"))) {
          lastAssigned = event;
        } else if ("queued".equals(event.getString("type")) && lastAssigned != null) {
          soft.assertThat(lastAssigned.getString("worker")).as("worker of attempt %s of %s, lost (%s) at %s",
              lastAssigned.getValue("attempt"), submit.id(), event.getString("reason"), event.getString("time"))
              .isEqualTo("w1");
        }
      }
      // A request still queued when w1 thaws may go to w1, which is alive again (its claim then waits out the
      // cluster's merge): only those submitted well before the thaw, w2 free to take them, must have gone to w2.
      if (submit.at().isAfter(frozenAt) && submit.at().isBefore(thawingAt.minus(UNCLAIMED_AT_THAW))) {
        during++;
        System.out.printf("submitted %s while w1 was frozen: %s attempt %d on %s after %d ms%n",
            Duration.between(frozenAt, submit.at()).toMillis() + " ms", submit.id(), view.getInteger("attempt"),
            view.getString("worker"), latency.toMillis());
        soft.assertThat(view.getString("worker")).as("worker that completed %s, submitted while w1 was frozen",
            submit.id()).isEqualTo("w2");
        soft.assertThat(view.getInteger("attempt")).as("attempt that completed %s, submitted while w1 was frozen",
            submit.id()).isLessThanOrEqualTo(2);
      }
    }
    assertThat(during).as("submits while w1 was frozen").isGreaterThanOrEqualTo(5);
    soft.assertAll();
  }

  /**
   * What w1's log says of its way back, on one line (a CI summary shows a failure's first line
   * only): whether it was dropped and merged back, whether it published again, its hand-ins that
   * failed and the attempts it ran after the thaw.
   */
  private static String rejoinStory(ChildProcess w1) {
    List<String> lines;
    try {
      lines = java.nio.file.Files.readAllLines(w1.log());
    } catch (java.io.IOException e) {
      return "w1's log unreadable: " + e;
    }
    java.util.function.Function<String, String> last = marker -> lines.stream().filter(l -> l.contains(marker))
        .reduce((a, b) -> b).map(l -> l.length() > 160 ? l.substring(0, 160) : l).orElse("none");
    java.util.function.Function<String, Long> count = marker -> lines.stream().filter(l -> l.contains(marker)).count();
    return "w1's log: suspected the node " + count.apply("is suspected to be dead") + "x, merges "
        + count.apply("is merging to") + " (last: " + last.apply("is merging to") + "), published again "
        + count.apply("publishing this worker's subscriptions again") + "x, failed hand-ins "
        + count.apply("handing in the result failed") + " (last: " + last.apply("handing in the result failed")
        + "), attempts run " + count.apply("runs attempt") + ", last line: " + last.apply("");
  }
}
