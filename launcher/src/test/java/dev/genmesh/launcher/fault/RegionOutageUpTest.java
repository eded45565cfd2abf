package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.launcher.CliRun;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code genmesh up --region-processes --random-ports} as a process (three regions, each its node, worker
 * and PostgreSQL as processes of their own, failover on with {@code bench/chaos/regions.yaml}'s timings),
 * then {@code genmesh chaos region-outage} against it, briefly: a region SIGKILLed under load is declared
 * DOWN, its peer adopts its open requests, which complete; streams opened before the kill reach
 * {@code completed}; started again, it reconciles, is declared UP and serves new submits; the invariants
 * hold. Then {@code genmesh region-kill} as a newcomer types it. About 5 minutes here (90 s of start-up with
 * seven JVMs on two cores, 2 min of experiment), past the short matrix's 3: it is the one process-level test
 * of the mode (docs/chaos.md, "CI matrix and the full matrix").
 */
class RegionOutageUpTest {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(300);

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void aRegionKilledUnderLoadIsAdoptedAndFailsBack() throws IOException {
    Path data = children.meshData(dir);
    Path config = Path.of(System.getProperty("basedir", "."), "..", "bench", "chaos", "regions.yaml").normalize();
    ChildProcess up = children.java("up", List.of("-Xmx768m", "-XX:+UseSerialGC"), "dev.genmesh.launcher.Main",
        List.of("up", "--region-processes", "--random-ports", "--no-fsync", "--data-dir", data.toString(),
            "--config", config.toString()));
    up.awaitLine(ChildProcesses.UP_EDGE_URL, START_TIMEOUT);

    Path report = dir.resolve("chaos.json");
    CliRun run = CliRun.of("chaos", "region-outage", "--data-dir", data.toString(), "--rate", "0.5", "--steps", "10",
        "--warm-up", "5", "--duration", "10", "--drain-timeout", "180", "--json", report.toString());

    JsonObject result = new JsonObject(Files.readString(report)).getJsonArray("runs").getJsonObject(0);
    assertThat(result.getBoolean("passed")).as(result.encodePrettily()).isTrue();
    assertThat(run.exit()).as(run.err()).isZero();
    JsonObject measures = result.getJsonObject("measures");
    assertThat(measures.getDouble("adopted")).as("requests open in the victim at the kill").isPositive();
    assertThat(measures.getDouble("detection_s")).as("kill → DOWN decision").isBetween(0.0, 60.0);
    assertThat(measures.getDouble("failover_complete_s")).as("kill → its open requests served by the peer")
        .isBetween(0.0, 60.0);
    assertThat(measures.getDouble("failback_s")).as("start → UP decision").isPositive();

    // The command a newcomer types (region-start is the same control call as the experiment's start).
    CliRun kill = CliRun.of("region-kill", "eu-west", "--data-dir", data.toString());
    assertThat(kill.exit()).as(kill.err()).isZero();
    JsonArray killed = new JsonObject(kill.out()).getJsonArray("killed");
    assertThat(killed.stream().map(k -> ((JsonObject) k).getString("role")).collect(Collectors.toSet()))
        .as(killed.encode()).containsAll(Set.of("node", "worker", "postgres", "redis"));
    assertThat(killed.stream().map(k -> ((JsonObject) k).getLong("pid")))
        .allSatisfy(pid -> assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).as("process " + pid).isEmpty());
    JsonObject objectStore = new JsonObject(kill.out()).getJsonArray("stopped").getJsonObject(0);
    assertThat(objectStore.getString("role")).isEqualTo("object-store");
    assertThat(refuses(objectStore.getInteger("port"))).as("the object store of eu-west, stopped").isTrue();

    CliRun unknown = CliRun.of("region-kill", "mars", "--data-dir", data.toString());
    assertThat(unknown.exit()).isEqualTo(1);
    assertThat(unknown.err()).contains("no region mars");
  }

  private static boolean refuses(int port) {
    try (java.net.Socket socket = new java.net.Socket()) {
      socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 2_000);
      return false;
    } catch (IOException e) {
      return true;
    }
  }
}
