package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.embedded.EmbeddedStores;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of the whole {@code genmesh up} with requests in flight, then a restart on
 * the same data directory, twice on one data directory (one test: each {@code up} start costs).
 * Killed alone, the JVM leaves its stores running: the restart stops them, comes back on their
 * data, and every request it had acknowledged completes. Killed with its stores (the whole process
 * tree at once, as a crash would), with fsync on as {@code up} runs by default: PostgreSQL recovers
 * from its log, and nothing acknowledged is lost, not even the requests acknowledged a moment
 * before the kill.
 */
class WholeMeshKilledTest {
  private static final Pattern REGION_URL = Pattern.compile("region\\s+us-west\\s+(http://\\S+)");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(180);
  private static final String DATABASE = "genmesh_us_west";
  /** us-west's own PostgreSQL server under the data directory (one server per region). */
  private static final String US_WEST_POSTGRES = "postgres-us-west/postmaster.pid";

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void everyAcknowledgedRequestCompletesAfterAKill9AloneAndAfterAKill9WithItsStoresAndFsyncOn() throws Exception {
    Path data = children.meshData(dir);
    Path config = config();
    ChildProcess first = children.genmeshUp("up-1", data, config, true);
    MeshClient edge = MeshClient.edge(first.awaitLine(ChildProcesses.UP_EDGE_URL, START_TIMEOUT).group(1));
    MeshClient region = MeshClient.regional(first.awaitLine(REGION_URL, START_TIMEOUT).group(1));
    Invariants invariants = new Invariants(imageObjects(data));
    submit(edge, invariants, 6, 800);
    awaitOneGenerating(region, invariants);

    // 1. The JVM killed alone.
    long postmaster = pidIn(data.resolve(US_WEST_POSTGRES));
    first.kill();
    assertThat(ProcessHandle.of(postmaster).map(ProcessHandle::isAlive)).as("PostgreSQL outlives the killed mesh")
        .contains(true);

    ChildProcess second = children.genmeshUp("up-2", data, config, true);
    MeshClient edgeAgain = MeshClient.edge(second.awaitLine(ChildProcesses.UP_EDGE_URL, START_TIMEOUT).group(1));
    MeshClient regionAgain = MeshClient.regional(second.awaitLine(REGION_URL, START_TIMEOUT).group(1));
    assertThat(second.printed(Pattern.compile("stopped PostgreSQL \\(pid " + postmaster + "\\)")))
        .as("the restart reports the leftover PostgreSQL it stopped").isTrue();

    Map<String, JsonObject> finals = invariants.awaitTerminal(regionAgain, Duration.ofSeconds(180));
    invariants.assertHold(regionAgain, finals);
    invariants.assertAllCompleted(finals);
    String someId = invariants.acknowledged().get(0);
    assertThat(edgeAgain.view(someId).json().getString("status")).as("the public API agrees").isEqualTo("completed");

    // 2. A crash: the JVM and its stores killed together.
    List<String> pgPidFile = Files.readAllLines(data.resolve(US_WEST_POSTGRES));
    postmaster = Long.parseLong(pgPidFile.get(0).trim());
    int pgPort = Integer.parseInt(pgPidFile.get(3).trim());
    assertThat(setting(pgPort, "fsync")).as("PostgreSQL of genmesh up without --no-fsync").isEqualTo("on");
    assertThat(setting(pgPort, "synchronous_commit")).isEqualTo("on");

    Invariants crashed = new Invariants(imageObjects(data));
    submit(edgeAgain, crashed, 4, 900);
    awaitOneGenerating(regionAgain, crashed);
    // Acknowledged a moment before the crash: without a synchronous commit these would be the first to go.
    submit(edgeAgain, crashed, 4, 950);
    // The stores run detached from the JVM (they outlive it): a crash takes them down too.
    List<ProcessHandle> stores = storeProcesses(data);
    long crashedPostmaster = postmaster;
    assertThat(stores).as("PostgreSQL and its backends, and Redis").hasSizeGreaterThan(2)
        .anyMatch(p -> p.pid() == crashedPostmaster);
    stores.forEach(ProcessHandle::destroyForcibly);
    second.killTree();
    for (ProcessHandle store : stores) {
      store.onExit().get(30, TimeUnit.SECONDS);
    }

    ChildProcess third = children.genmeshUp("up-3", data, config, true);
    MeshClient regionThird = MeshClient.regional(third.awaitLine(REGION_URL, START_TIMEOUT).group(1));
    third.awaitLine(ChildProcesses.UP_EDGE_URL, START_TIMEOUT);

    for (String id : crashed.acknowledged()) {
      assertThat(regionThird.view(id).status()).as("acknowledged request %s after the crash", id).isEqualTo(200);
    }
    Map<String, JsonObject> afterCrash = crashed.awaitTerminal(regionThird, Duration.ofSeconds(240));
    crashed.assertHold(regionThird, afterCrash);
    crashed.assertAllCompleted(afterCrash);

    third.stop(Duration.ofSeconds(60));
    assertThat(third.printed(Pattern.compile("shutting down"))).as("a clean stop after the restart").isTrue();
  }

  private Path config() throws IOException {
    return Files.writeString(dir.resolve("genmesh.yaml"), """
        edge:
          region_health_interval_ms: 500
        worker:
          heartbeat_interval_ms: 500
          claim_poll_ms: 200
        queue:
          lease_ms: 3000
          lease_reap_interval_ms: 500
        """);
  }

  private static void submit(MeshClient edge, Invariants invariants, int count, int firstSeed) {
    for (int i = 0; i < count; i++) {
      JsonObject request = new JsonObject().put("prompt", "a city after rain " + (firstSeed + i)).put("steps", 30)
          .put("width", 768).put("height", 768).put("seed", firstSeed + i).put("tier", i % 2 == 0 ? "fast" : "turbo");
      MeshClient.Answer answer = edge.submit(request);
      assertThat(answer.status()).as(answer.body()).isEqualTo(202);
      invariants.record(answer);
    }
  }

  private static void awaitOneGenerating(MeshClient region, Invariants invariants) {
    Sleeps.until("a request generating", Duration.ofSeconds(90), () -> invariants.acknowledged().stream()
        .map(region::view)
        .anyMatch(a -> a.status() == 200 && "generating".equals(a.json().getString("status"))) ? true : null);
  }

  /** Where {@code genmesh up} keeps the region's images. */
  /** The us-west bucket of the mesh's embedded object store, read from its files. */
  private static ImageObjects imageObjects(Path data) {
    return new ImageObjects(data.resolve(EmbeddedStores.OBJECTS_DIR).resolve("buckets").resolve("genmesh-us-west"));
  }

  /**
   * us-west's PostgreSQL server with all its backends, and the Redis master, replica and sentinel,
   * of {@code genmesh up --regions us-west} on {@code data}.
   */
  private static List<ProcessHandle> storeProcesses(Path data) throws IOException {
    List<ProcessHandle> processes = new ArrayList<>();
    for (Path pidFile : List.of(data.resolve(US_WEST_POSTGRES), data.resolve("redis/redis.pid"),
        data.resolve("redis-replica/redis.pid"), data.resolve("redis-sentinel/redis.pid"))) {
      ProcessHandle server = ProcessHandle.of(pidIn(pidFile)).orElseThrow(() -> new AssertionError("no live " + pidFile));
      processes.add(server);
      processes.addAll(server.descendants().toList());
    }
    return processes;
  }

  private static long pidIn(Path pidFile) throws IOException {
    return Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
  }

  private static String setting(int port, String name) throws SQLException {
    try (Connection connection = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE,
        "postgres", ""); ResultSet rows = connection.createStatement().executeQuery("SHOW " + name)) {
      assertThat(rows.next()).isTrue();
      return rows.getString(1);
    }
  }
}
