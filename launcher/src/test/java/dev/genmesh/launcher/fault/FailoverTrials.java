package dev.genmesh.launcher.fault;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The measurement behind docs/failover.md, "Trials", not part of the test suite: a
 * {@link ProcessMesh} per scenario, then trial after trial of {@link RegionKillScenario} (us-west
 * SIGKILLed whole, or cut off by its proxies), each followed by the return (a restart, or the cut
 * healed) and the UP decision. Run with
 * {@code ./mvnw -B -o -pl launcher -am test -Dtest=FailoverTrials -Dsurefire.failIfNoSpecifiedTests=false -Dgenmesh.failoverTrials=10 -Dsurefire.timeout=0};
 * rows are appended to {@code launcher/target/failover-trials.csv} (docs/failover-trials.csv keeps this machine's).
 * {@code -Dgenmesh.failoverTrials.scenarios=kill} runs one scenario only.
 */
@EnabledIfSystemProperty(named = "genmesh.failoverTrials", matches = "\\d+")
class FailoverTrials {
  private static final Duration WAIT = Duration.ofSeconds(300);

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  @Timeout(value = 8, unit = TimeUnit.HOURS)
  void measureRegionLossAndPartition() throws Exception {
    int trials = Integer.getInteger("genmesh.failoverTrials");
    Path out = Path.of(System.getProperty("basedir", "."), "target", "failover-trials.csv");
    if (!Files.exists(out)) {
      Files.writeString(out, "scenario,trial,detect_ms,quorum_detection_ms,fenced_ms,adopted,adopted_queued_ms,dns_ms,"
          + "acknowledged,failed_submits,lost,completed_twice,held,discarded\n");
    }
    for (String scenario : System.getProperty("genmesh.failoverTrials.scenarios", "kill,partition").split(",")) {
      ProcessMesh mesh = new ProcessMesh(children, Files.createDirectories(dir.resolve(scenario)), 1,
          scenario.equals("partition") ? RegionKillScenario.VICTIM : null);
      mesh.start();
      for (int trial = 1; trial <= trials; trial++) {
        String row = scenario + "," + trial + "," + trial(mesh, scenario);
        System.out.println("[trial] " + row);
        Files.writeString(out, row + "\n", StandardOpenOption.APPEND); // kept if a later trial fails
      }
      mesh.stop();
    }
    System.out.println("written to " + out);
  }

  private static String trial(ProcessMesh mesh, String scenario) throws Exception {
    RegionKillScenario run = new RegionKillScenario(mesh);
    run.awaitSteady();
    Map<String, Double> heldBefore = scenario.equals("kill") ? Map.of() : RegionKillScenario.heldResults(mesh);
    int ups = run.upDecisions();
    int downs = run.downDecisions();
    RegionKillScenario.Outcome outcome = scenario.equals("kill") ? run.run(2, 10, downs)
        : run.run(2, 10, mesh::partition, downs);
    if (scenario.equals("kill")) {
      mesh.restart(RegionKillScenario.VICTIM);
    } else {
      mesh.heal();
    }
    Sleeps.until("us-west declared UP", WAIT, () -> run.upDecisions() > ups ? true : null);
    List<String> acknowledged = outcome.load().acknowledged();
    int lost = 0;
    int twice = 0;
    for (String id : acknowledged) {
      // Asked again on every poll: right after the UP decision the returned region may still answer 200 for
      // a request it is about to mark ADOPTED in its reconciliation (then 307 to the adopter).
      String[] serving = new String[1];
      JsonObject view = Sleeps.until(id + " terminal", WAIT, () -> {
        serving[0] = RegionKillScenario.servingRegion(mesh, id);
        MeshClient.Answer answer = mesh.regional(serving[0]).view(id);
        return answer.status() == 200 && List.of("completed", "failed", "cancelled")
            .contains(answer.json().getString("status")) ? answer.json() : null;
      });
      MeshClient region = mesh.regional(serving[0]);
      lost += "completed".equals(view.getString("status")) ? 0 : 1;
      twice += region.events(id).stream().filter(e -> "completed".equals(e.getString("type"))).count() > 1 ? 1 : 0;
    }
    Map<String, String> westRows = RegionKillScenario.statusIn(mesh, RegionKillScenario.VICTIM, outcome.adopted());
    twice += (int) westRows.values().stream().filter(status -> !"ADOPTED".equals(status)).count();
    twice += RegionKillScenario.completedIn(mesh, RegionKillScenario.VICTIM, outcome.adopted()).size();
    // Held results: the victim's (partition only; a killed one's counters die with it). Discarded = GPU work done twice.
    Map<String, Double> heldAfter = scenario.equals("kill") ? Map.of() : RegionKillScenario.heldResults(mesh);
    String held = scenario.equals("kill") ? "" : String.valueOf(Math.round(heldAfter.get("held") - heldBefore.get("held")));
    String discarded = scenario.equals("kill") ? ""
        : String.valueOf(Math.round(heldAfter.get("discarded") - heldBefore.get("discarded")));
    Instant killed = outcome.killedAt();
    List<Object> row = new ArrayList<>(List.of(outcome.detectMs(), outcome.detectionMs(),
        outcome.fencedAt() == null ? "" : Duration.between(killed, outcome.fencedAt()).toMillis(),
        outcome.adopted().size(), outcome.adoptedQueuedMs(), outcome.dnsMs(), acknowledged.size(),
        outcome.load().failed().size(), lost, twice, held, discarded));
    return String.join(",", row.stream().map(String::valueOf).toList());
  }
}
