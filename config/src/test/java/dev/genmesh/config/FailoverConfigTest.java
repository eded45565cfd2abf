package dev.genmesh.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genmesh.config.failover.FailoverConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FailoverConfigTest {
  @Test
  void theDefaultsAreOffWithTheDesignNumbersAndTheRing() {
    FailoverConfig failover = ConfigLoader.defaults().failover();
    assertThat(failover).isEqualTo(FailoverConfig.defaults());
    assertThat(failover.enabled()).isFalse();
    assertThat(failover.detectAfterMs()).isEqualTo(15_000);
    assertThat(failover.adopterOf("us-west")).isEqualTo("us-east");
    assertThat(failover.adopterOf("us-east")).isEqualTo("eu-west");
    assertThat(failover.adopterOf("eu-west")).isEqualTo("us-west");
    assertThat(failover.adopterOf("ap-south")).isNull();
  }

  @Test
  void aFenceThatCouldComeAfterDetectionIsRefusedByName() {
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_FAILOVER__FENCE_AFTER_MS", "14500")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("failover.fence_after_ms")
        .hasMessageContaining("below detect_after_ms");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_FAILOVER__POLL_INTERVAL_MS", "5000")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("failover.fence_after_ms")
        .hasMessageContaining("two poll intervals");
  }

  @Test
  void aRingOfUnknownRegionsIsRefused() {
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_FAILOVER__RING", "[us-west, mars]")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("failover.ring").hasMessageContaining("mars");
  }
}
