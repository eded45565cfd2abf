package dev.genmesh.edge.impl;

import static dev.genmesh.edge.regions.impl.HealthState.HEALTHY;
import static dev.genmesh.edge.regions.impl.HealthState.UNHEALTHY;
import static dev.genmesh.edge.regions.impl.HealthState.UNKNOWN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.edge.regions.impl.RegionPicker;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RegionPickerTest {
  private static final Map<String, Long> LATENCY = Map.of("us-west", 20L, "us-east", 70L, "eu-west", 140L);
  private final RegionPicker picker = new RegionPicker(List.of("eu-west", "us-east", "us-west"), LATENCY);

  @Test
  void ordersHealthyRegionsByLatency() {
    assertThat(picker.candidates(Map.of("us-west", HEALTHY, "us-east", HEALTHY, "eu-west", HEALTHY)))
        .containsExactly("us-west", "us-east", "eu-west");
  }

  @Test
  void skipsUnhealthyRegions() {
    assertThat(picker.candidates(Map.of("us-west", UNHEALTHY, "us-east", HEALTHY, "eu-west", HEALTHY)))
        .containsExactly("us-east", "eu-west");
  }

  @Test
  void triesUnknownRegionsAfterHealthyOnes() {
    assertThat(picker.candidates(Map.of("us-west", UNKNOWN, "us-east", UNHEALTHY, "eu-west", HEALTHY)))
        .containsExactly("eu-west", "us-west");
  }

  @Test
  void countsRegionsMissingFromTheHealthMapAsUnknown() {
    assertThat(picker.candidates(Map.of())).containsExactly("us-west", "us-east", "eu-west");
    assertThat(picker.candidates(Map.of("eu-west", HEALTHY))).containsExactly("eu-west", "us-west", "us-east");
  }

  @Test
  void stillOrdersEveryRegionWhenAllAreUnhealthy() {
    assertThat(picker.candidates(Map.of("us-west", UNHEALTHY, "us-east", UNHEALTHY, "eu-west", UNHEALTHY)))
        .containsExactly("us-west", "us-east", "eu-west");
  }

  @Test
  void sortsRegionsWithoutALatencyAfterMeasuredOnesByName() {
    RegionPicker withNew = new RegionPicker(List.of("ap-south", "eu-west", "us-west", "ap-east"), Map.of("us-west", 20L, "eu-west", 140L));

    assertThat(withNew.candidates(Map.of())).containsExactly("us-west", "eu-west", "ap-east", "ap-south");
    assertThat(withNew.candidates(Map.of("ap-south", HEALTHY, "us-west", UNHEALTHY)))
        .containsExactly("ap-south", "eu-west", "ap-east");
  }

  @Test
  void breaksLatencyTiesByName() {
    RegionPicker tied = new RegionPicker(List.of("b", "a", "c"), Map.of("a", 10L, "b", 10L, "c", 5L));

    assertThat(tied.candidates(Map.of())).containsExactly("c", "a", "b");
  }
}
