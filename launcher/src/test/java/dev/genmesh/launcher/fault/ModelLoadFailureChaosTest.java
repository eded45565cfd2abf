package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.launcher.CliRun;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code genmesh chaos model-load-failure} against {@code genmesh up --autoscale --chaos} as a
 * process (one region, random ports): the bundled model's weights corrupted and a worker restarted
 * onto them. The run must pass: a breaker opened, the requests the broken worker refused completed
 * on the other worker, none failed, the worker served the model again once the files were restored,
 * and the invariants held.
 *
 * <p>About 115 s here (45 s of start-up, 65–80 s of experiment): too long beside
 * {@code ChaosMatrixTest}, whose 130–155 s it would push past 3 minutes, and past the 90 s an
 * ungated test may take; so it runs on demand (docs/chaos.md):
 * {@code ./mvnw -B -o -pl launcher -am test -Dtest=ModelLoadFailureChaosTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Dgenmesh.chaos.modelLoadFailure=true}. The report is kept
 * in {@code launcher/target/chaos-model-load-failure.json}.
 */
@EnabledIfSystemProperty(named = "genmesh.chaos.modelLoadFailure", matches = "true")
class ModelLoadFailureChaosTest {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(180);

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void aWorkerRestartedOntoCorruptedModelFilesIsRoutedAroundAndRecovers() throws IOException {
    Path data = children.chaosReadyMesh(dir, START_TIMEOUT);

    Path report = dir.resolve("chaos.json");
    CliRun run = CliRun.of("chaos", "model-load-failure", "--data-dir", data.toString(), "--rate", "0.5",
        "--steps", "10", "--warm-up", "5", "--duration", "10", "--drain-timeout", "120", "--json", report.toString());

    // Kept for a look at the figures (docs/chaos.md): the temporary directory goes at the end.
    Files.copy(report, Path.of(System.getProperty("basedir", "."), "target", "chaos-model-load-failure.json"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    JsonObject json = new JsonObject(Files.readString(report));
    JsonObject result = json.getJsonArray("runs").getJsonObject(0);
    assertThat(result.getBoolean("passed")).as(result.encodePrettily()).isTrue();
    assertThat(run.exit()).as(run.err()).isZero();
    JsonObject measures = result.getJsonObject("measures");
    assertThat(measures.getDouble("requests_refused_model_load_failed")).as("requests the broken worker refused").isPositive();
    assertThat(measures.getDouble("breaker_open_s")).isPositive();
    assertThat(measures.getDouble("recovered_s")).isGreaterThanOrEqualTo(0.0);
  }
}
