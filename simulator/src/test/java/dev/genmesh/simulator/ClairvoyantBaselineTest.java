package dev.genmesh.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.scaling.ScalingDecision;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The clairvoyant baseline, at a quarter of the design's traffic (15 QPS peak): it meets every
 * tier's target on the days a perfect forecast can plan for, costs no more than the design
 * policy, and keeps the design policy's steps and cooldowns. Simulated time only.
 */
class ClairvoyantBaselineTest {
  private final GenmeshConfig config = ConfigLoader.defaults();
  private final Simulator simulator = new Simulator(config, SimulationSettings.defaults(config).withPeakQps(15));

  @Test
  void onEveryPlannableDayItMeetsTheTargetsForNoMoreThanTheDesignPolicyCosts() {
    for (String name : List.of("normal", "wrong-forecast")) {
      Scenario day = Scenario.named(name, config.autoscaling().timeOfDay());
      RunResult clairvoyant = simulator.run(day, PolicyKind.CLAIRVOYANT);
      RunResult design = simulator.run(day, PolicyKind.DESIGN);

      assertThat(clairvoyant.tiers()).as(name).allSatisfy(tier -> assertThat(tier.shareWithinTarget())
          .as("%s: %s within target", name, tier.tier()).isGreaterThanOrEqualTo(Simulator.TARGET_SHARE));
      assertThat(clairvoyant.tuning()).as(name).contains("smallest meeting every target");
      assertThat(clairvoyant.cost()).as("%s: clairvoyant against the design policy's $%.0f", name, design.cost())
          .isLessThanOrEqualTo(design.cost());
      // A sanity floor: the work itself (GPU time at 100 % utilisation) costs about 70 % of the design policy's bill.
      assertThat(clairvoyant.cost()).as(name).isGreaterThan(0.5 * design.cost());
      // The summary gives the design policy's cost as a ratio to it.
      assertThat(SimulationReport.summaryTable(List.of(design, clairvoyant)))
          .contains(String.format(java.util.Locale.ROOT, "| %.2fx |", design.cost() / clairvoyant.cost()))
          .contains("| 1.00x |").contains("headroom");
    }
  }

  @Test
  void itKeepsTheDesignPolicysStepsCooldownsAndBoundsAndWarmsUpAheadOfTheMorningRise() {
    RunResult run = simulator.withClairvoyantHeadroom(0.5)
        .run(Scenario.named("normal", config.autoscaling().timeOfDay()), PolicyKind.CLAIRVOYANT);

    Map<String, ScalingDecision> lastUp = new HashMap<>();
    Map<String, ScalingDecision> lastChange = new HashMap<>();
    for (ScalingDecision d : run.decisions()) {
      int min = config.autoscaling().pools().get(d.pool()).min();
      assertThat(d.to()).as("%s at %s", d.pool(), d.time()).isBetween(min, config.autoscaling().pools().get(d.pool()).max());
      if (d.to() > d.from() && d.from() >= min) {
        assertThat(d.to() - d.from()).as("step up").isLessThanOrEqualTo(config.autoscaling().stepUp());
        ScalingDecision previous = lastUp.get(d.pool());
        if (previous != null) {
          assertThat(Duration.between(previous.time(), d.time()).toMillis()).as("%s up at %s", d.pool(), d.time())
              .isGreaterThanOrEqualTo(config.autoscaling().cooldownUpMs());
        }
        lastUp.put(d.pool(), d);
      } else if (d.to() < d.from()) {
        assertThat(d.from() - d.to()).as("step down").isLessThanOrEqualTo(config.autoscaling().stepDown());
        ScalingDecision previous = lastChange.get(d.pool());
        if (previous != null) {
          assertThat(Duration.between(previous.time(), d.time()).toMillis()).as("%s down at %s", d.pool(), d.time())
              .isGreaterThanOrEqualTo(config.autoscaling().cooldownDownMs());
        }
      }
      lastChange.put(d.pool(), d);
    }
    // It knows the 10:00 rise is coming: workers are added before it, not after the queues grow.
    assertThat(workersAtMinute(run, 9 * 60 + 55)).as("workers at 09:55 against 09:00")
        .isGreaterThan(workersAtMinute(run, 9 * 60));
    assertThat(run.decisions()).allSatisfy(d -> assertThat(d.reason()).isEqualTo("clairvoyant"));
  }

  private static int workersAtMinute(RunResult run, double minute) {
    return run.timeline().stream().filter(row -> row.minute() >= minute).findFirst()
        .map(row -> java.util.Arrays.stream(row.workers()).sum()).orElseThrow();
  }
}
