package dev.genmesh.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ServiceTimesTest {
  private final ServiceTimes estimates = ServiceTimes.estimates();

  @Test
  void measuredFiguresReplaceTheEstimatesTheyNameAndNoOthers() {
    ServiceTimes measured = estimates.withMeasured(List.of("kind,gpu,seconds", "# from scaling_decisions", "sdxl,L4,0.9",
        "sd3_flux/flux, A100-40 , 1.2", ""));
    assertThat(measured.seconds("sdxl", "sdxl", "L4")).isEqualTo(0.9);
    assertThat(measured.seconds("sd3_flux", "flux", "A100-40")).isEqualTo(1.2);
    assertThat(measured.seconds("sdxl", "sdxl", "A10G")).isEqualTo(estimates.seconds("sdxl", "sdxl", "A10G"));
    assertThat(estimates.seconds("sdxl", "sdxl", "L4")).as("the estimates stay as they were").isEqualTo(1.10);
  }

  @Test
  void aLineThatCannotBeUsedIsRefusedByItsNumber() {
    assertThatThrownBy(() -> estimates.withMeasured(List.of("sdxl,L4,0.9", "sdxl_turbo,L4,0.5")))
        .hasMessageContaining("line 2").hasMessageContaining("unknown kind");
    assertThatThrownBy(() -> estimates.withMeasured(List.of("high_res,L4,2.0")))
        .as("the routing matrix keeps high_res off L4").hasMessageContaining("no high_res on L4");
    assertThatThrownBy(() -> estimates.withMeasured(List.of("sdxl,L4,fast"))).hasMessageContaining("not a number");
    assertThatThrownBy(() -> estimates.withMeasured(List.of("sdxl,L4,-1"))).hasMessageContaining("positive");
    assertThatThrownBy(() -> estimates.withMeasured(List.of("sdxl;L4;1"))).hasMessageContaining("kind,gpu,seconds");
  }
}
