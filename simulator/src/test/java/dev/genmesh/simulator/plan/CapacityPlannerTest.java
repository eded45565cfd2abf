package dev.genmesh.simulator.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.genmesh.config.ConfigException;
import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.plan.PlanInputs;
import dev.genmesh.simulator.ServiceTimes;
import dev.genmesh.simulator.plan.CapacityPlan.MilestonePlan;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A growth table small enough to plan by hand, against the default config (prices, routing, pool bounds). */
class CapacityPlannerTest {
  private static final String SMALL = """
      milestones:
        small: {daily_images: 2000000, peak_qps: 40}
        big: {daily_images: 8000000, peak_qps: 150, actions: ["tell finance"]}
      regions: {us-west: 1.0}
      mix:
        tiers: {turbo: 0.1, fast: 0.5, relax: 0.4}
        families: {sdxl: 1.0}
        classes: {sdxl: {sdxl: 1.0}}
      peak_utilisation: 0.8
      average_utilisation: 0.5
      days_per_month: 30
      """;

  @TempDir Path dir;
  private final GenmeshConfig config = ConfigLoader.defaults();

  @Test
  void aSmallGrowthTableGivesTheHandComputedGpusCostsAndActions() throws Exception {
    CapacityPlan plan = plan(SMALL);

    // small: plain SDXL only, cheapest on L4 at 1.10 s. Peak: ceil(40 x 1.10 / 0.8) = 55 L4; the other
    // pools at their minimums (A10G 1, A100-40 3, A100-80 0, H100 1).
    MilestonePlan small = plan.milestones().get(0);
    assertThat(small.peakGpus()).containsExactly(entry("L4", 55), entry("A10G", 1), entry("A100-40", 3),
        entry("A100-80", 0), entry("H100", 1));
    // A day: L4 2,000,000 x 1.10 s / 3600 / 0.5 = 1222.2 h; the minimums all day: A10G 24 h, A100-40 72 h, H100 24 h.
    assertThat(small.regions().get(0).gpuHoursPerDay().get("L4")).isCloseTo(1222.222, within(0.01));
    // 1222.22 x 0.81 + 24 x 1.21 + 72 x 3.67 + 24 x 6.98 = 1450.80 a day, x 30 days.
    assertThat(small.costPerMonth()).isCloseTo(43_524.0, within(0.5));
    assertThat(small.costPerImage()).isCloseTo(1450.80 / 2_000_000, within(1e-8));
    // The peak fleet all month: (55 x 0.81 + 1.21 + 3 x 3.67 + 6.98) x 24 x 30.
    assertThat(small.staticCostPerMonth()).isCloseTo(45_900.0, within(0.5));
    assertThat(small.actions()).contains("55 L4 at the peak over all regions: check the cloud quota for them")
        .anySatisfy(a -> assertThat(a).contains("set autoscaling.forecast.peak_qps from 60 to 40"));

    // big: ceil(150 x 1.10 / 0.8) = ceil(206.25) = 207 L4, past the pool's 150 and, with the 5 others, the region's 200.
    MilestonePlan big = plan.milestones().get(1);
    assertThat(big.peakGpus().get("L4")).isEqualTo(207);
    // 8,000,000 x 1.10 / 3600 / 0.5 = 4888.9 h x 0.81 = 3960.0, + 460.80 of minimums, a day.
    assertThat(big.costPerMonth()).isCloseTo(30 * 4420.80, within(0.5));
    assertThat(big.actions()).containsSubsequence(
        "us-west: raise autoscaling.max_workers from 200 to 212, or move traffic to another region",
        "us-west: raise autoscaling.pools.L4.max from 150 to 207 (else the rest spills to a dearer pool)");
    assertThat(big.actions()).contains("+152 L4 over small (55 -> 207): raise the cloud quota or reserve them before"
        + " this milestone", "tell finance");

    assertThat(plan.table()).contains("| small | us-west | 2,000,000 | 40.0 | 55 | 1 | 3 | 0 | 1 | 60 | $43,524 |")
        .contains("Actions for big:");
    JsonObject json = new JsonObject(plan.toJson().encode());
    assertThat(json.getJsonArray("milestones").getJsonObject(1).getJsonObject("peak_gpus").getInteger("L4"))
        .isEqualTo(207);
    assertThat(json.getString("service_times")).isEqualTo("estimates");
  }

  @Test
  void aRegionTheConfigDoesNotKnowIsPlannedWithAnActionToAddIt() throws Exception {
    CapacityPlan plan = plan(SMALL.replace("regions: {us-west: 1.0}", "regions: {us-west: 0.5, ap-south: 0.5}"));
    assertThat(plan.milestones().get(0).regions()).extracting(CapacityPlan.RegionPlan::region)
        .containsExactly("us-west", "ap-south");
    // ceil(20 x 1.10 / 0.8) = 28 L4 each.
    assertThat(plan.milestones().get(0).regions().get(1).peakGpus().get("L4")).isEqualTo(28);
    assertThat(plan.milestones().get(0).actions()).anySatisfy(a -> assertThat(a).startsWith("add region ap-south"));
  }

  @Test
  void aClassTheRoutingMatrixDoesNotKnowOrAFamilyWithoutServiceTimeIsRefusedByItsKey() throws Exception {
    assertThatThrownBy(() -> plan(SMALL.replace("classes: {sdxl: {sdxl: 1.0}}", "classes: {sdxl: {sdxl_turbo: 1.0}}")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("mix.classes.sdxl.sdxl_turbo")
        .hasMessageContaining("routing matrix");
    assertThatThrownBy(() -> plan(SMALL.replace("classes: {sdxl: {sdxl: 1.0}}", "classes: {sdxl: {sd3_flux: 1.0}}")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("mix.classes.sdxl.sd3_flux")
        .hasMessageContaining("no service time on A100-40");
  }

  private CapacityPlan plan(String yaml) throws Exception {
    Path file = dir.resolve("plan.yaml");
    Files.writeString(file, yaml);
    return new CapacityPlanner(config, PlanInputs.load(file), ServiceTimes.estimates(), "estimates").plan();
  }

  private static java.util.Map.Entry<String, Integer> entry(String gpu, int n) {
    return java.util.Map.entry(gpu, n);
  }
}
