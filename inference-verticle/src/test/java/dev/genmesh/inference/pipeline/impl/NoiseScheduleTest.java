package dev.genmesh.inference.pipeline.impl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class NoiseScheduleTest {

  @Test
  void runsFromSigmaMaxToSigmaMinThenZero() {
    double[] sigmas = NoiseSchedule.DEFAULT.sigmas(10);
    assertThat(sigmas).hasSize(11);
    assertThat(sigmas[0]).isCloseTo(14.6146, within(1e-9));
    assertThat(sigmas[9]).isCloseTo(0.0292, within(1e-9));
    assertThat(sigmas[10]).isZero();
    for (int i = 1; i < sigmas.length; i++) {
      assertThat(sigmas[i]).isLessThan(sigmas[i - 1]);
    }
  }

  @Test
  void oneStepGoesStraightFromSigmaMaxToZero() {
    assertThat(NoiseSchedule.DEFAULT.sigmas(1)).containsExactly(14.6146, 0.0);
  }
}
