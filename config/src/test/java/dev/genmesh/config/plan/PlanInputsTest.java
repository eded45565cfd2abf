package dev.genmesh.config.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genmesh.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plan inputs: the bundled defaults load; a user's file replaces them by section; a bad one names its key. */
class PlanInputsTest {
  @TempDir Path dir;

  @Test
  void theBundledDefaultsHoldTheGrowthTableInOrder() {
    PlanInputs inputs = PlanInputs.load(null);
    assertThat(inputs.milestones().keySet()).containsExactly("launch", "1 year", "2 years");
    // launch: what the default config is sized for, three regions at forecast.peak_qps 60 each.
    assertThat(inputs.milestones().get("launch").peakQps()).isEqualTo(180);
    assertThat(inputs.milestones().get("launch").dailyImages()).isEqualTo(11_700_000);
    assertThat(inputs.regions().values().stream().mapToDouble(Double::doubleValue).sum()).isCloseTo(1.0,
        org.assertj.core.api.Assertions.within(1e-9));
    assertThat(inputs.serviceTimesCsv()).isNull();
    assertThat(inputs.peakUtilisation()).isEqualTo(0.8);
  }

  @Test
  void aFileReplacesTheSectionsItNamesAndResolvesTheCsvBesideItself() throws Exception {
    Path file = write("""
        milestones:
          now: {daily_images: 1000000, peak_qps: 20}
        service_times_csv: measured.csv
        """);
    PlanInputs inputs = PlanInputs.load(file);
    assertThat(inputs.milestones().keySet()).containsExactly("now");
    assertThat(inputs.regions()).containsKeys("us-west", "us-east", "eu-west");
    assertThat(inputs.serviceTimesCsv()).isEqualTo(dir.toAbsolutePath().resolve("measured.csv"));
    assertThat(inputs.source()).isEqualTo(file.toString());
  }

  @Test
  void badInputsAreRefusedWithTheKeyAndWhatIsWrong() throws Exception {
    assertRefused("regions: {us-west: 0.5, eu-west: 0.4}", "regions: shares must add up to 1, got 0.9000");
    assertRefused("milestones:\n  now: {daily_images: 8640000, peak_qps: 50}",
        "milestones.now.peak_qps: is below the average rate daily_images implies (100.0 per second)");
    assertRefused("milestones:\n  now: {daily_images: 1000, peak_qsp: 50}", "milestones.now.peak_qps: is required");
    assertRefused("milestones:\n  now: {daily_images: 1000, peak_qps: 50, note: x}",
        "milestones.now.note: is not a known setting");
    assertRefused("milestones:\n  now: {daily_images: -5, peak_qps: 50}", "milestones.now.daily_images: must be between");
    assertRefused("milestones: {}", "milestones: must have at least one entry");
    assertRefused("mix:\n  tiers: {turbo: 0.5, fast: 0.5}\n  families: {sdxl: 1.0}\n  classes: {sdxl: {sdxl: 1.0}}",
        "mix.tiers: must name turbo, fast and relax");
    assertRefused("mix:\n  tiers: {turbo: 0.1, fast: 0.5, relax: 0.4}\n  families: {sdxl: 0.5, flux: 0.5}\n"
        + "  classes: {sdxl: {sdxl: 1.0}}", "mix.classes.flux: is required");
    assertRefused("average_utilisation: 0.9", "average_utilisation: must not exceed peak_utilisation (0.8)");
    assertRefused("peak_utilisation: 1.5", "peak_utilisation: must be between");
    assertRefused("days_per_moth: 30", "days_per_moth: is not a known setting");
    assertThatThrownBy(() -> PlanInputs.load(dir.resolve("missing.yaml"))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("plan inputs file not found");
    assertThatThrownBy(() -> PlanInputs.load(write("milestones: [a, b"))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("is not valid YAML");
  }

  private void assertRefused(String yaml, String message) throws Exception {
    Path file = write(yaml);
    assertThatThrownBy(() -> PlanInputs.load(file)).as(yaml).isInstanceOf(ConfigException.class)
        .hasMessageContaining(message);
  }

  private Path write(String yaml) throws Exception {
    Path file = dir.resolve("plan.yaml");
    Files.writeString(file, yaml);
    return file;
  }
}
