package dev.genmesh.inference.pipeline.impl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class LatentNoiseTest {

  @Test
  void isStandardGaussianTimesScale() {
    NhwcArray noise = LatentNoise.gaussian(1, 1, 64, 64, 4, 2.0);
    double mean = 0;
    double square = 0;
    for (float v : noise.data()) {
      mean += v;
      square += v * v;
    }
    mean /= noise.data().length;
    double std = Math.sqrt(square / noise.data().length - mean * mean);
    assertThat(mean).isCloseTo(0, within(0.05));
    assertThat(std).isCloseTo(2.0, within(0.05));
  }

  @Test
  void batchItemIUsesSeedPlusI() {
    NhwcArray batch = LatentNoise.gaussian(10, 2, 8, 8, 4, 1.0);
    NhwcArray single = LatentNoise.gaussian(11, 1, 8, 8, 4, 1.0);
    float[] second = Arrays.copyOfRange(batch.data(), batch.itemSize(), 2 * batch.itemSize());
    assertThat(second).isEqualTo(single.data());
    assertThat(LatentNoise.gaussian(10, 1, 8, 8, 4, 1.0).data())
        .isEqualTo(Arrays.copyOf(batch.data(), batch.itemSize()));
  }
}
