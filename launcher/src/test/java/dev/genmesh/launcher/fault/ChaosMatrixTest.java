package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.launcher.CliRun;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The short chaos matrix of CI (docs/chaos.md): {@code genmesh up --autoscale --chaos} as a process
 * (one region, random ports), then {@code genmesh chaos} with the cheapest experiments, briefly:
 * +500 ms on the image store, and a worker process SIGKILLed under load. Each must pass its
 * validations and the invariants, and the report must say so. The full matrix is
 * {@code bench/chaos/run.sh}.
 */
class ChaosMatrixTest {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(180);

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void theCheapestExperimentsPassAgainstAChaosReadyMesh() throws IOException {
    Path data = children.meshData(dir);
    Path config = Files.writeString(dir.resolve("genmesh.yaml"), """
        worker:
          heartbeat_interval_ms: 500
          claim_poll_ms: 200
        health:
          heartbeat_interval_ms: 500
          heartbeat_timeout_ms: 1500
        queue:
          lease_ms: 5000
          lease_reap_interval_ms: 500
          # up's CPU workers serve none of the routing matrix's classes: without this every request
          # waits out the 60 s hold (docs/chaos.md, "Findings")
          routing_hold_ms: 1000
        """);
    ChildProcess up = children.genmeshUp("up", data, config, "--autoscale", "--chaos");
    up.awaitLine(ChildProcesses.UP_EDGE_URL, START_TIMEOUT);
    Path workerLog = data.resolve("workers").resolve("usw-worker-as-1.log");
    Sleeps.until("the pool's first worker process serving", START_TIMEOUT, () -> {
      try {
        return Files.exists(workerLog) && Files.readString(workerLog).contains("serving region us-west") ? true : null;
      } catch (IOException e) {
        return null;
      }
    });

    Path report = dir.resolve("chaos.json");
    CliRun run = CliRun.of("chaos", "storage-latency,worker-termination", "--data-dir", data.toString(),
        "--rate", "0.5", "--steps", "10", "--warm-up", "5", "--duration", "10", "--drain-timeout", "120", "--json", report.toString());

    JsonObject json = new JsonObject(Files.readString(report));
    assertThat(json.getJsonArray("runs")).as(json.encodePrettily()).hasSize(2)
        .allSatisfy(r -> assertThat(((JsonObject) r).getBoolean("passed")).as(((JsonObject) r).encodePrettily()).isTrue());
    assertThat(run.exit()).as(run.err()).isZero();
    JsonObject killed = json.getJsonArray("runs").getJsonObject(1);
    assertThat(killed.getJsonObject("measures").getDouble("impact_s")).as("seconds from the kill to the completion"
        + " of the killed worker's request").isBetween(0.0, 30.0);
    assertThat(killed.getJsonObject("measures").getDouble("acknowledged")).isPositive();
  }
}
