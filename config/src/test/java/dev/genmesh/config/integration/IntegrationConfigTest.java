package dev.genmesh.config.integration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genmesh.config.ConfigException;
import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IntegrationConfigTest {
  @Test
  void tracingAndTheBridgeAreOffByDefaultAndTheBridgeOnLoopback() {
    GenmeshConfig config = ConfigLoader.defaults();
    assertThat(config.tracing().exports()).isFalse();
    assertThat(config.tracing().samplingRatio()).isEqualTo(1.0);
    assertThat(config.bridge().enabled()).isFalse();
    assertThat(config.bridge().host()).isEqualTo("127.0.0.1");
    assertThat(config.bridge().portOf("us-east")).isEqualTo(7182);
    assertThat(config.bridge().outbound()).containsExactly("genmesh.usage", "genmesh.alerts");
    assertThat(config.bridge().inbound()).isEmpty();
    assertThat(config.withUsers(config.users()).bridge()).as("kept by the with-methods").isEqualTo(config.bridge());
  }

  @Test
  void environmentOverridesReachBothSections() {
    GenmeshConfig config = ConfigLoader.load(null, Map.of(
        "GENMESH_TRACING__OTLP_ENDPOINT", "http://collector:4318/v1/traces",
        "GENMESH_TRACING__SAMPLING_RATIO", "0.25",
        "GENMESH_BRIDGE__ENABLED", "true",
        "GENMESH_BRIDGE__INBOUND", "[genmesh.billing.ack]"));
    assertThat(config.tracing().exports()).isTrue();
    assertThat(config.tracing().samplingRatio()).isEqualTo(0.25);
    assertThat(config.bridge().enabled()).isTrue();
    assertThat(config.bridge().inbound()).isEqualTo(List.of("genmesh.billing.ack"));
  }

  @Test
  void badValuesNameTheirKey() {
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_TRACING__OTLP_ENDPOINT", "collector:4318")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("tracing.otlp_endpoint");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_TRACING__SAMPLING_RATIO", "1.5")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("tracing.sampling_ratio");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_BRIDGE__OUTBOUND", "[genmesh.*]")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("bridge.outbound").hasMessageContaining("exact");
  }
}
