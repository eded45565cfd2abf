package dev.genmesh.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.scaling.ScalingDecision;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole simulated day at a quarter of the design's traffic (15 QPS peak, about a million
 * requests) under the real policy and the static fleet, and the report it writes.
 */
class SimulatorSmokeTest {
  @TempDir Path dir;

  @Test
  void aDayUnderTheRealPolicyPreScalesMeetsItsTargetsCostsLessThanTheStaticFleetAndIsReported() throws Exception {
    GenmeshConfig config = ConfigLoader.defaults();
    Simulator simulator = new Simulator(config, SimulationSettings.defaults(config).withPeakQps(15));
    Scenario day = Scenario.normal(config.autoscaling().timeOfDay());

    RunResult autoscaled = simulator.run(day, PolicyKind.DESIGN);
    RunResult fixed = simulator.run(day, PolicyKind.STATIC);

    assertThat(autoscaled.requests()).isBetween(800_000L, 1_200_000L);
    assertThat(autoscaled.tiers()).allSatisfy(tier -> assertThat(tier.shareWithinTarget()).isGreaterThanOrEqualTo(0.99));
    assertThat(autoscaled.cost()).isLessThan(fixed.cost());
    // (Pre-scaling by the forecast is checked at full traffic, DesignPolicyCostTest: at a quarter of it the
    // tier reservations cover the morning, and a 10 min horizon asks for nothing before the pools pass them.)
    // And it gives them back at night.
    assertThat(autoscaled.decisions()).anySatisfy(d -> {
      assertThat(d.isUp()).isFalse();
      assertThat(timeOf(d)).isBetween(LocalTime.of(1, 0), LocalTime.of(4, 0));
    });
    assertThat(autoscaled.decisions()).allSatisfy(d -> assertThat(Math.abs(d.to() - d.from())).isLessThanOrEqualTo(5));
    // Same seed, same day.
    assertThat(simulator.run(day, PolicyKind.DESIGN).cost()).isEqualTo(autoscaled.cost());

    String table = SimulationReport.write(dir, List.of(autoscaled, fixed), "smoke");
    assertThat(table).contains("| normal | autoscaled (design policy) |");
    assertThat(Files.readAllLines(dir.resolve("normal-design.csv"))).hasSize(1 + 24 * 60 + 1);
    assertThat(Files.readAllLines(dir.resolve("normal-decisions.csv"))).hasSize(1 + autoscaled.decisions().size());
    assertThat(DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(dir.resolve("normal.svg").toFile())
        .getDocumentElement().getTagName()).isEqualTo("svg");
    assertThat(Files.readString(dir.resolve("summary.md"))).startsWith("smoke");
  }

  private static LocalTime timeOf(ScalingDecision decision) {
    return decision.time().atZone(ZoneOffset.UTC).toLocalTime();
  }
}
