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
 * dispatches. No request is lost, none completes twice as the user sees it.
 */
class RegionPartitionedTest {
  private static final Duration WAIT = Duration.ofSeconds(240);

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  @Timeout(value = 15, unit = TimeUnit.MINUTES)
  void aRegionCutOffFencesBeforeItsWorkIsAdoptedAndRunsNothingAgainWhenTheCutHeals() throws Exception {
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
    List<String> everything = new ArrayList<>(outcome.load().acknowledged());
    Sleeps.until("a submit accepted by us-west again", WAIT, () -> {
      MeshClient.Answer answer = mesh.edge().submit(MeshClient.spec("after the partition", 10, 512, 98));
      assertThat(answer.status()).as(answer.body()).isEqualTo(202);
      everything.add(answer.json().getString("id"));
      return answer.json().getString("id").startsWith("usw_") ? true : null;
    });
    RegionKillScenario.awaitEveryRequestDone(mesh, everything, WAIT);
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
