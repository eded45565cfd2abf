package dev.genmesh.inference.pipeline.impl;

import java.util.SplittableRandom;

/**
 * The starting latent: standard Gaussians from a seed. Batch item i uses seed + i, so item i of a
 * batch equals a single image generated with seed + i.
 */
public final class LatentNoise {

  private LatentNoise() {}

  public static NhwcArray gaussian(long seed, int batch, int height, int width, int channels,
      double scale) {
    int itemSize = height * width * channels;
    float[] data = new float[batch * itemSize];
    for (int b = 0; b < batch; b++) {
      fill(new SplittableRandom(seed + b), data, b * itemSize, itemSize, scale);
    }
    return new NhwcArray(data, batch, height, width, channels);
  }

  /** Box-Muller, both outputs used; independent of the JDK's own Gaussian algorithm. */
  private static void fill(SplittableRandom random, float[] out, int from, int count,
      double scale) {
    for (int i = 0; i < count; i += 2) {
      double radius = Math.sqrt(-2.0 * Math.log(1.0 - random.nextDouble())) * scale;
      double angle = 2.0 * Math.PI * random.nextDouble();
      out[from + i] = (float) (radius * Math.cos(angle));
      if (i + 1 < count) {
        out[from + i + 1] = (float) (radius * Math.sin(angle));
      }
    }
  }
}
