package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of the whole {@code genmesh up} with requests in flight, then a restart on
 * the same data directory: the stores the dead JVM left running are stopped, the mesh comes
 * back on its data, and every request it had acknowledged completes.
 */
class WholeMeshKilledTest {
  private static final Pattern REGION_URL = Pattern.compile("region\\s+us-west\\s+(http://\\S+)");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(180);

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void everyAcknowledgedRequestCompletesAfterAKill9AndARestart() throws IOException {
    Path data = children.meshData(dir);
    Path config = Files.writeString(dir.resolve("genmesh.yaml"), """
        edge:
          region_health_interval_ms: 500
        worker:
          heartbeat_interval_ms: 500
          claim_poll_ms: 200
        queue:
          lease_ms: 3000
          lease_reap_interval_ms: 500
        """);
    ChildProcess first = children.genmeshUp("up-1", data, config);
    MeshClient edge = MeshClient.edge(first.awaitLine(ChildProcesses.UP_EDGE_URL, START_TIMEOUT).group(1));
    MeshClient region = MeshClient.regional(first.awaitLine(REGION_URL, START_TIMEOUT).group(1));
    Invariants invariants = new Invariants();
    for (int i = 0; i < 6; i++) {
      JsonObject request = new JsonObject().put("prompt", "a city after rain " + i).put("steps", 30).put("width", 768)
          .put("height", 768).put("seed", 800 + i).put("tier", i % 2 == 0 ? "fast" : "turbo");
      MeshClient.Answer answer = edge.submit(request);
      assertThat(answer.status()).as(answer.body()).isEqualTo(202);
      invariants.record(answer);
    }
    Sleeps.until("a request generating", Duration.ofSeconds(90), () -> invariants.acknowledged().stream()
        .map(region::view)
        .anyMatch(a -> a.status() == 200 && "generating".equals(a.json().getString("status"))) ? true : null);

    long postmaster = pidIn(data.resolve("postgres/postmaster.pid"));
    first.kill();
    assertThat(ProcessHandle.of(postmaster).map(ProcessHandle::isAlive)).as("PostgreSQL outlives the killed mesh")
        .contains(true);

    ChildProcess second = children.genmeshUp("up-2", data, config);
    MeshClient edgeAgain = MeshClient.edge(second.awaitLine(ChildProcesses.UP_EDGE_URL, START_TIMEOUT).group(1));
    MeshClient regionAgain = MeshClient.regional(second.awaitLine(REGION_URL, START_TIMEOUT).group(1));
    assertThat(second.printed(Pattern.compile("stopped PostgreSQL \\(pid " + postmaster + "\\)")))
        .as("the restart reports the leftover PostgreSQL it stopped").isTrue();

    Map<String, JsonObject> finals = invariants.awaitTerminal(regionAgain, Duration.ofSeconds(180));
    invariants.assertHold(regionAgain, finals);
    invariants.assertAllCompleted(finals);
    String someId = invariants.acknowledged().get(0);
    assertThat(edgeAgain.view(someId).json().getString("status")).as("the public API agrees").isEqualTo("completed");

    second.stop(Duration.ofSeconds(60));
    assertThat(second.printed(Pattern.compile("shutting down"))).as("a clean stop after the restart").isTrue();
  }

  private static long pidIn(Path pidFile) throws IOException {
    return Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
  }
}
