package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of {@code genmesh up --region-processes}: the region node and the worker it started
 * as processes notice that their parent is gone and exit, instead of living on as orphans holding a
 * CPU, a port and a cluster (the stores it started are stopped by the next start on the same data
 * directory, as in the one-JVM mode).
 */
class RegionProcessesOrphanTest {
  private static final Duration START = Duration.ofSeconds(240);

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void regionProcessesExitWhenTheMeshIsKilled() throws IOException {
    Path data = children.meshData(dir);
    // The short heartbeats and leases of the chaos matrix: nothing here waits on them, they only keep it light.
    Path config = Path.of(System.getProperty("basedir", "."), "..", "bench", "chaos", "chaos.yaml").normalize();
    ChildProcess up = children.genmeshUp("up", data, config, "--region-processes");
    up.awaitLine(ChildProcesses.UP_EDGE_URL, START);
    JsonObject usWest = targets(data).getJsonObject("region_processes").getJsonObject("us-west");
    List<Long> pids = new java.util.ArrayList<>(List.of(usWest.getLong("node_pid")));
    usWest.getJsonObject("workers").forEach(worker -> pids.add(((Number) worker.getValue()).longValue()));
    List<ProcessHandle> regionProcesses = up.descendants().stream().filter(p -> pids.contains(p.pid())).toList();
    assertThat(regionProcesses).as("the node and the worker of us-west, children of up").hasSize(2);
    regionProcesses.forEach(p -> children.onCleanup(p::destroyForcibly));

    up.kill();
    Sleeps.until("the orphaned region processes exited", Duration.ofSeconds(30),
        () -> regionProcesses.stream().noneMatch(ProcessHandle::isAlive) ? true : null);
    assertThat(data.resolve("regions").resolve("us-west-node.log")).content()
        .contains("its parent process " + up.pid() + " is gone");
  }

  /** {@code GET /chaos/targets} of the mesh's control API (always on with {@code --region-processes}). */
  private static JsonObject targets(Path data) throws IOException {
    JsonObject control = new JsonObject(Files.readString(data.resolve("chaos").resolve("control.json")));
    try {
      java.net.http.HttpResponse<String> answer = java.net.http.HttpClient.newHttpClient().send(
          java.net.http.HttpRequest.newBuilder(java.net.URI.create(control.getString("url") + "/chaos/targets"))
              .header("Authorization", "Bearer " + control.getString("token")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      return new JsonObject(answer.body());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }
}
