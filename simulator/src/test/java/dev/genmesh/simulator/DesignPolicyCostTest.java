package dev.genmesh.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.scaling.ScalingDecision;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 15's goal at the design's full traffic (60 QPS peak, seed 42, as docs/autoscaling.md's
 * table): on the normal day the design policy costs at most 1.15x the clairvoyant baseline with
 * every tier within its target, and the days the forecast does not expect keep every tier within
 * target. The simulator is deterministic, so these are exact runs, not samples; the clairvoyant
 * runs at the headroom its search finds for the normal day (0.4375). Simulated time only: four
 * simulated days, about 20 s of CPU.
 */
class DesignPolicyCostTest {
  private static final double GOAL = 1.15;
  private final GenmeshConfig config = ConfigLoader.defaults();
  private final Simulator simulator = new Simulator(config, SimulationSettings.defaults(config))
      .withClairvoyantHeadroom(0.4375);

  @Test
  void onTheNormalDayTheDesignPolicyCostsAtMost115TimesTheClairvoyantWithEveryTierWithinTarget() {
    Scenario normal = Scenario.named("normal", config.autoscaling().timeOfDay());
    RunResult clairvoyant = simulator.run(normal, PolicyKind.CLAIRVOYANT);
    RunResult design = simulator.run(normal, PolicyKind.DESIGN);

    assertThat(clairvoyant.meetsTargets(Simulator.TARGET_SHARE)).as("the yardstick meets every target").isTrue();
    assertThat(design.tiers()).allSatisfy(tier -> assertThat(tier.shareWithinTarget())
        .as("design policy: %s within target", tier.tier()).isGreaterThanOrEqualTo(Simulator.TARGET_SHARE));
    // 1.22x before the changes of issue 15 (1.20x with the simulator measuring service times as the region does).
    assertThat(design.cost() / clairvoyant.cost()).as("design $%.0f against clairvoyant $%.0f", design.cost(),
        clairvoyant.cost()).isLessThanOrEqualTo(GOAL);
    // Pre-scaling: on the 10:00 rise the learned forecast asks for workers ahead of the traffic.
    assertThat(design.decisions()).anySatisfy(d -> {
      assertThat(d.reason()).isEqualTo("predicted_high");
      assertThat(d.driver()).isEqualTo(ScalingDecision.DRIVER_FORECAST);
      assertThat(d.time().atZone(ZoneOffset.UTC).toLocalTime()).isBetween(LocalTime.of(9, 0), LocalTime.of(10, 0));
    });
  }

  @Test
  void onTheDaysTheForecastDoesNotExpectEveryTierStaysWithinTarget() {
    for (String name : List.of("ramp", "wrong-forecast")) {
      RunResult design = simulator.run(Scenario.named(name, config.autoscaling().timeOfDay()), PolicyKind.DESIGN);
      assertThat(design.tiers()).allSatisfy(tier -> assertThat(tier.shareWithinTarget())
          .as("%s: %s within target", name, tier.tier()).isGreaterThanOrEqualTo(Simulator.TARGET_SHARE));
    }
  }
}
