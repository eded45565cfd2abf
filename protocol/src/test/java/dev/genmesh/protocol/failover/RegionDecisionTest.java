package dev.genmesh.protocol.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RegionDecisionTest {

  @Test
  void roundTripsThroughJsonWithItsDetectionTime() {
    RegionDecision down = new RegionDecision("us-west", RegionDecision.State.DOWN, "us-east",
        Instant.parse("2026-12-07T10:00:15Z"), Instant.parse("2026-12-07T10:00:00Z"),
        List.of("edge", "us-east"), List.of("edge", "us-east", "eu-west"), "not ready, queues stalled");

    RegionDecision back = RegionDecision.fromJson(down.toJson());

    assertThat(back).isEqualTo(down);
    assertThat(back.detectionMs()).isEqualTo(15_000);
    assertThat(down.toJson().getString("state")).isEqualTo("down");
  }

  @Test
  void anUpDecisionHasNoAdopter() {
    RegionDecision up = new RegionDecision("us-west", RegionDecision.State.UP, null, Instant.EPOCH, Instant.EPOCH,
        List.of("edge"), List.of("edge"), "healthy again");

    assertThat(up.toJson().containsKey("adopter")).isFalse();
    assertThat(RegionDecision.fromJson(up.toJson()).adopter()).isNull();
  }
}
