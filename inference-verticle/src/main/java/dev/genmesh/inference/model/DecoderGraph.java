package dev.genmesh.inference.model;

import static dev.genmesh.inference.model.ModelContract.DECODE;
import static dev.genmesh.inference.model.ModelContract.IMAGE;
import static dev.genmesh.inference.model.ModelContract.LATENT;
import static dev.genmesh.inference.model.ModelContract.LATENT_CHANNELS;
import static dev.genmesh.inference.model.ModelContract.LATENT_DOWNSCALE;

import org.tensorflow.Operand;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * {@code decode}: latent [b, h, w, 4] to image [b, 8h, 8w, 3] in [0, 1]. A 3x3 conv to 8*8*3
 * channels and depth-to-space, whose kernel is a bilinear upsampler composed with a seeded colour
 * matrix (so the image is smooth, not 8x8 blocks), then a 3x3 smoothing conv and a sigmoid.
 */
final class DecoderGraph {

  private static final int BLOCK = LATENT_DOWNSCALE;
  private static final int RGB = 3;

  private DecoderGraph() {}

  static Signature build(Ops root, Parameters rootParams) {
    Ops tf = root.withSubScope("decode");
    Parameters params = rootParams.in(tf);
    float[] colours = params.sample(RGB * LATENT_CHANNELS, 0.3);
    float[] colourBias = params.sample(RGB, 0.3);
    Operand<TFloat32> upsample =
        params.fixed("upsample", upsampleKernel(colours), 3, 3, LATENT_CHANNELS,
            BLOCK * BLOCK * RGB);
    Operand<TFloat32> upsampleBias =
        params.fixed("upsample_bias", tiled(colourBias, BLOCK * BLOCK), BLOCK * BLOCK * RGB);
    Operand<TFloat32> smooth =
        params.fixed("smooth", smoothingKernel(params.sample(81, 0.04)), 3, 3, RGB, RGB);
    Operand<TFloat32> smoothBias = params.zeros("smooth_bias", RGB);

    Placeholder<TFloat32> latent = tf.withName(LATENT).placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(-1, -1, -1, LATENT_CHANNELS)));
    Operand<TFloat32> cells = Layers.conv(tf, latent, upsample, upsampleBias);
    Operand<TFloat32> pixels = tf.nn.depthToSpace(cells, (long) BLOCK);
    Operand<TFloat32> image =
        tf.withName(IMAGE).math.sigmoid(Layers.conv(tf, pixels, smooth, smoothBias));

    return Signature.builder(DECODE).input(LATENT, latent).output(IMAGE, image).build();
  }

  /**
   * Kernel [3][3][4][64*3]: output channel (dy*8 + dx)*3 + c, which depth-to-space puts at
   * sub-pixel (dy, dx), is the bilinear interpolation of the neighbouring cells' colour c.
   */
  private static float[] upsampleKernel(float[] colours) {
    int out = BLOCK * BLOCK * RGB;
    float[] k = new float[3 * 3 * LATENT_CHANNELS * out];
    for (int ky = 0; ky < 3; ky++) {
      for (int kx = 0; kx < 3; kx++) {
        for (int l = 0; l < LATENT_CHANNELS; l++) {
          for (int dy = 0; dy < BLOCK; dy++) {
            for (int dx = 0; dx < BLOCK; dx++) {
              double weight = tent(ky, dy) * tent(kx, dx);
              for (int c = 0; c < RGB; c++) {
                int o = (dy * BLOCK + dx) * RGB + c;
                k[((ky * 3 + kx) * LATENT_CHANNELS + l) * out + o] =
                    (float) (weight * colours[c * LATENT_CHANNELS + l]);
              }
            }
          }
        }
      }
    }
    return k;
  }

  /** Bilinear weight of neighbour tap {@code k} (0, 1, 2 = left, centre, right) at sub-pixel d. */
  private static double tent(int k, int d) {
    double p = (d + 0.5) / BLOCK - 0.5; // sub-pixel offset from the cell centre, in cells
    return switch (k) {
      case 0 -> Math.max(0, -p);
      case 1 -> 1 - Math.abs(p);
      default -> Math.max(0, p);
    };
  }

  /** A [1 2 1] x [1 2 1] / 16 blur per colour, plus a little seeded cross-colour mixing. */
  private static float[] smoothingKernel(float[] noise) {
    int[] binomial = {1, 2, 1};
    float[] k = new float[3 * 3 * RGB * RGB];
    for (int ky = 0; ky < 3; ky++) {
      for (int kx = 0; kx < 3; kx++) {
        for (int in = 0; in < RGB; in++) {
          for (int out = 0; out < RGB; out++) {
            int i = ((ky * 3 + kx) * RGB + in) * RGB + out;
            double blur = in == out ? binomial[ky] * binomial[kx] / 16.0 : 0.0;
            k[i] = (float) (blur + noise[i]);
          }
        }
      }
    }
    return k;
  }

  private static float[] tiled(float[] v, int times) {
    float[] out = new float[v.length * times];
    for (int t = 0; t < times; t++) {
      System.arraycopy(v, 0, out, t * v.length, v.length);
    }
    return out;
  }
}
