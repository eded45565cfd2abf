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
    Path data = children.chaosReadyMesh(dir, START_TIMEOUT);

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
