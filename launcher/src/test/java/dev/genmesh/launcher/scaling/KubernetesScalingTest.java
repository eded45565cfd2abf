package dev.genmesh.launcher.scaling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which model-mix family a model counts for when the Kubernetes actuator picks workers to drain. */
class KubernetesScalingTest {
  @Test
  void aModelCountsForItsConfiguredFamily() {
    GenmeshConfig config = ConfigLoader.defaults();
    assertThat(KubernetesScaling.familyOf(config, "genmesh-tiny")).isEqualTo("sdxl");
    assertThat(KubernetesScaling.familyOf(config, "genmesh-small")).isEqualTo("sd3");
    assertThat(KubernetesScaling.familyOf(config, "no-such-model")).isEqualTo("other");
    GenmeshConfig flux = ConfigLoader.load(null, Map.of("GENMESH_MODELS__GENMESH_SMALL__FAMILY", "flux"));
    assertThat(KubernetesScaling.familyOf(flux, "genmesh-small")).isEqualTo("flux");
  }
}
