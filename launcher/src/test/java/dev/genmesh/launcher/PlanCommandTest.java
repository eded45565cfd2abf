package dev.genmesh.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code genmesh plan} as a user runs it: the bundled growth table as a table or JSON; bad inputs exit 1 naming the key. */
class PlanCommandTest {
  @TempDir Path dir;

  @Test
  void theBundledGrowthTablePrintsAsATableAndAsJson() {
    CliRun table = CliRun.of("plan");
    assertThat(table.exit()).as(table.err()).isZero();
    assertThat(table.out()).contains("genmesh plan: bundled plan-defaults.yaml; service times: the simulator's estimates")
        .contains("| **launch** | **all** | 11,700,000 | 180.0 |").contains("| 2 years | us-west |")
        .contains("Actions for 2 years:").contains("raise autoscaling.max_workers");

    CliRun json = CliRun.of("plan", "--json");
    assertThat(json.exit()).as(json.err()).isZero();
    JsonObject plan = new JsonObject(json.out());
    assertThat(plan.getJsonArray("milestones")).hasSize(3);
    JsonObject launch = plan.getJsonArray("milestones").getJsonObject(0);
    assertThat(launch.getString("name")).isEqualTo("launch");
    assertThat(launch.getJsonArray("regions")).hasSize(3);
    assertThat(launch.getDouble("cost_per_image")).isPositive();
  }

  @Test
  void measuredServiceTimesChangeThePlanAndBadInputsExitOneNamingTheKey() throws Exception {
    Files.writeString(dir.resolve("times.csv"), "kind,gpu,seconds\nsdxl,L4,2.2\n");
    Files.writeString(dir.resolve("plan.yaml"), """
        milestones:
          now: {daily_images: 1000000, peak_qps: 40}
        regions: {us-west: 1.0}
        mix:
          tiers: {turbo: 0.1, fast: 0.5, relax: 0.4}
          families: {sdxl: 1.0}
          classes: {sdxl: {sdxl: 1.0}}
        service_times_csv: times.csv
        """);
    CliRun measured = CliRun.of("plan", "--inputs", dir.resolve("plan.yaml").toString(), "--json");
    assertThat(measured.exit()).as(measured.err()).isZero();
    JsonObject now = new JsonObject(measured.out()).getJsonArray("milestones").getJsonObject(0);
    // ceil(40 x 2.2 / 0.8) = 110 L4 with the measured 2.2 s (55 with the 1.10 s estimate).
    assertThat(now.getJsonObject("peak_gpus").getInteger("L4")).isEqualTo(110);
    assertThat(new JsonObject(measured.out()).getString("service_times")).startsWith("measured, ");

    Files.writeString(dir.resolve("bad.yaml"), "regions: {us-west: 0.7}\n");
    CliRun bad = CliRun.of("plan", "--inputs", dir.resolve("bad.yaml").toString());
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.err()).contains("genmesh: regions: shares must add up to 1, got 0.7000");

    Files.writeString(dir.resolve("times.csv"), "sdxl,H200,1.0\n");
    CliRun badCsv = CliRun.of("plan", "--inputs", dir.resolve("plan.yaml").toString());
    assertThat(badCsv.exit()).isNotZero();
    assertThat(badCsv.err()).contains("service_times_csv").contains("line 1").contains("no sdxl on H200");
  }
}
