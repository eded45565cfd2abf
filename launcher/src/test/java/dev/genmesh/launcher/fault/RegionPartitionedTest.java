package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * us-west cut off from everyone while it keeps running (issue 13's partition must-show): every link
 * between it and the others (its API as the edge and the other regions reach it, its PostgreSQL as
 * its peer's subscription and fail-back reach it, the object stores, and the other way round) goes
 * through a {@link dev.genmesh.testkit.FaultProxy} ({@link ProcessMesh}), and all are cut at once
 * under load. us-west fences itself before the quorum declares it DOWN; us-east adopts its open
 * requests; the load goes on. Then the cut heals: us-west, held DOWN, stays fenced, reconciles
 * with us-east once declared UP (what us-east adopted becomes ADOPTED in its log) and only then
 * dispatches. No request is lost, none completes twice as the user sees it; a result us-west
 * finishes during the cut is held (docs/architecture.md, "Held results"), never completed there.
 * Then, on the same mesh, us-west is cut from the other regions only (the edge still reaches it):
 * {@link #cutFromTheOtherRegionsOnly}.
 */
class RegionPartitionedTest {
  private static final Duration WAIT = Duration.ofSeconds(240);

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  @Timeout(value = 15, unit = TimeUnit.MINUTES)
  void aRegionCutOffFencesBeforeItsWorkIsAdoptedHoldsItsResultsAndRunsNothingAgainWhenTheCutHeals() throws Exception {
    ProcessMesh mesh = new ProcessMesh(children, dir, 1, RegionKillScenario.VICTIM);
    mesh.start();
    RegionKillScenario scenario = new RegionKillScenario(mesh);
    scenario.awaitSteady();
    RegionKillScenario.Outcome outcome = scenario.run(2, 10, mesh::partition);
    System.out.printf("[partition] fenced %s ms after the cut, DOWN %d ms after it (quorum: %d ms), adopted %d queued %d ms"
        + " after it, DNS changed %d ms after it%n", outcome.fencedAt() == null ? "never"
        : Duration.between(outcome.killedAt(), outcome.fencedAt()).toMillis(), outcome.detectMs(), outcome.detectionMs(),
        outcome.adopted().size(), outcome.adoptedQueuedMs(), outcome.dnsMs());

    assertThat(outcome.load().failed()).as("submits that failed while two regions lived").isEmpty();
    assertThat(outcome.fencedAt()).as("us-west fenced itself").isNotNull();
    Instant decidedAt = Instant.parse(outcome.decision().getString("decided_at"));
    assertThat(outcome.fencedAt()).as("us-west fenced before the quorum declared it DOWN").isBefore(decidedAt);
    assertThat(outcome.adopted()).as("us-west's open requests adopted by us-east").isNotEmpty();

    Sleeps.pause(Duration.ofSeconds(3)); // cut off a while longer, still running
    mesh.heal();
    JsonObject up = Sleeps.until("us-west declared UP", WAIT, () -> scenario.upDecision().orElse(null));
    System.out.println("[partition] UP again: " + up.encode());
    MeshClient west = mesh.regional("us-west");
    Sleeps.until("us-west unfenced after reconciling", WAIT, () -> {
      MeshClient.Answer opinions = west.get("/failover/opinions");
      return opinions.status() == 200 && !opinions.json().getBoolean("fenced", true) ? true : null;
    });
    Map<String, String> rows = statusIn(mesh, "us-west", outcome.adopted());
    assertThat(rows).as("us-west's rows of what us-east adopted").allSatisfy((id, status) ->
        assertThat(status).as(id).isEqualTo("ADOPTED"));
    for (String id : outcome.adopted()) {
      MeshClient.Answer view = west.view(id);
      assertThat(view.status()).as("us-west on %s, adopted by us-east", id).isEqualTo(307);
    }
    // A result finished during the cut is held, then discarded at the first release pass after the heal.
    Sleeps.until("no adopted request completed in us-west as well", WAIT,
        () -> noneCompletedInWest(mesh, outcome.adopted()));
    List<String> everything = new ArrayList<>(outcome.load().acknowledged());
    Sleeps.until("a submit accepted by us-west again", WAIT, () -> {
      MeshClient.Answer answer = mesh.edge().submit(MeshClient.spec("after the partition", 10, 512, 98));
      assertThat(answer.status()).as(answer.body()).isEqualTo(202);
      everything.add(answer.json().getString("id"));
      return answer.json().getString("id").startsWith("usw_") ? true : null;
    });
    RegionKillScenario.awaitEveryRequestDone(mesh, everything, WAIT);
    RegionKillScenario.assertEdgeAnswersAsTheAdopter(mesh, outcome.adopted(), 2);
    System.out.println("[partition] us-west's results: " + heldResults(mesh));

    cutFromTheOtherRegionsOnly(mesh, scenario);
  }

  /**
   * The same mesh, us-west cut from the other regions only: the edge still reaches it (and it the
   * edge), so a user could see what us-west says during the cut. It fences (one vote of three), is
   * declared DOWN by the other regions (the edge follows), and us-east adopts; the results us-west's
   * running attempts finish meanwhile are held, never published: each stream opened before the cut
   * sees one completed, each request one completion where it is served and none in us-west for what
   * us-east adopted. The edge answers us-west's ids from us-west before the DOWN, from us-east after,
   * and after the heal from us-east through us-west's 307.
   */
  private static void cutFromTheOtherRegionsOnly(ProcessMesh mesh, RegionKillScenario scenario) throws Exception {
    scenario.awaitSteady();
    int downs = scenario.downDecisions();
    int ups = scenario.upDecisions();
    RegionKillScenario.Outcome outcome = scenario.run(2, 10, mesh::partitionFromRegions, downs);
    System.out.printf("[partial partition] fenced %s ms after the cut, DOWN %d ms after it, adopted %d%n",
        outcome.fencedAt() == null ? "never" : Duration.between(outcome.killedAt(), outcome.fencedAt()).toMillis(),
        outcome.detectMs(), outcome.adopted().size());
    assertThat(outcome.load().failed()).as("submits that failed during the partial partition").isEmpty();
    assertThat(outcome.fencedAt()).as("us-west fenced itself before the DOWN").isNotNull()
        .isBefore(Instant.parse(outcome.decision().getString("decided_at")));
    for (String id : outcome.adopted()) {
      MeshClient.Answer view = mesh.edge().view(id);
      assertThat(view.status()).as("the edge on %s during the cut, after the DOWN: %s", id, view.body()).isEqualTo(200);
      assertThat(view.json().getString("status")).as(id).isNotEqualTo("adopted");
    }
    Sleeps.pause(Duration.ofSeconds(3));
    mesh.heal();
    Sleeps.until("us-west declared UP again", WAIT, () -> scenario.upDecisions() > ups ? true : null);
    MeshClient west = mesh.regional("us-west");
    Sleeps.until("us-west unfenced after reconciling", WAIT, () -> {
      MeshClient.Answer opinions = west.get("/failover/opinions");
      return opinions.status() == 200 && !opinions.json().getBoolean("fenced", true) ? true : null;
    });
    List<String> acknowledged = outcome.load().acknowledged();
    RegionKillScenario.awaitEveryRequestDone(mesh, acknowledged, WAIT);
    for (EdgeStream stream : outcome.streams()) {
      Sleeps.until(stream.id() + "'s stream through the edge to reach completed", WAIT,
          () -> stream.completed() ? true : null);
      assertThat(stream.types()).as("stream %s", stream).containsOnlyOnce("completed");
      assertThat(stream.ids()).as("stream %s", stream).doesNotHaveDuplicates().isSorted();
    }
    assertThat(statusIn(mesh, "us-west", outcome.adopted())).allSatisfy((id, status) ->
        assertThat(status).as(id).isEqualTo("ADOPTED"));
    Sleeps.until("no adopted request completed in us-west as well", WAIT,
        () -> noneCompletedInWest(mesh, outcome.adopted()));
    RegionKillScenario.assertEdgeAnswersAsTheAdopter(mesh, outcome.adopted(), 2);
    System.out.println("[partial partition] us-west's results: " + heldResults(mesh));
  }

  /** True when none of {@code adopted} has a completed event in us-west's own log, else null (to poll). */
  private static Boolean noneCompletedInWest(ProcessMesh mesh, List<String> adopted) {
    try {
      return WholeRegionKilledTest.completedIn(mesh, "us-west", adopted).isEmpty() ? true : null;
    } catch (Exception e) {
      throw new IllegalStateException("reading us-west's log", e);
    }
  }

  /** us-west's held results by outcome (held, released, discarded), from its metrics. */
  static Map<String, Double> heldResults(ProcessMesh mesh) {
    String page = mesh.regional("us-west").get("/metrics").body();
    Map<String, Double> counts = new LinkedHashMap<>();
    for (String outcome : List.of("held", "released", "discarded")) {
      counts.put(outcome, Metrics.sum(page, "genmesh_failover_results_total", Map.of("outcome", outcome)));
    }
    return counts;
  }

  /** The status of each of {@code ids} in {@code region}'s own log (read from its PostgreSQL). */
  static Map<String, String> statusIn(ProcessMesh mesh, String region, List<String> ids) throws Exception {
    Map<String, String> statuses = new LinkedHashMap<>();
    String url = "jdbc:postgresql://127.0.0.1:" + mesh.region(region).pgPort() + "/" + ProcessMesh.DATABASE;
    try (Connection connection = DriverManager.getConnection(url, "postgres", "");
        PreparedStatement query = connection.prepareStatement("SELECT status FROM " + region.replace('-', '_')
            + ".requests WHERE id = ?")) {
      for (String id : ids) {
        query.setString(1, id);
        try (ResultSet rows = query.executeQuery()) {
          statuses.put(id, rows.next() ? rows.getString(1) : null);
        }
      }
    }
    return statuses;
  }
}
