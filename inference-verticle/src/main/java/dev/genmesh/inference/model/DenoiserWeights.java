package dev.genmesh.inference.model;

import static dev.genmesh.inference.model.ModelContract.EMBEDDING_DIM;
import static dev.genmesh.inference.model.ModelContract.LATENT_CHANNELS;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * The denoiser's variables, drawn from the model's weight stream in a fixed order, and the
 * hand-built kernels that give the untrained net its purpose (see {@link DenoiserNet}).
 */
record DenoiserWeights(
    int hidden,
    Operand<TFloat32> conv1,
    Operand<TFloat32> conv1Bias,
    Operand<TFloat32> filmText,
    Operand<TFloat32> filmSigma,
    List<Operand<TFloat32>> middle,
    List<Operand<TFloat32>> middleBias,
    Operand<TFloat32> conv3,
    Operand<TFloat32> conv3Bias,
    Operand<TFloat32> waveParams,
    Operand<TFloat32> waveMix,
    Operand<TFloat32> blobMix,
    Operand<TFloat32> smooth,
    Operand<TFloat32> controlIn,
    Operand<TFloat32> controlOut) {

  /** Wave components of the composition field. */
  static final int WAVES = 12;
  /** Per wave: x-frequency, y-frequency, radial frequency, centre x, centre y, phase, amplitude. */
  static final int WAVE_PARAMS = 7;
  static final int SIGMA_FEATURES = 5;
  /** The latent channel that carries the seed's layout (see {@link #blobMixValues}). */
  static final int SEED_CHANNEL = LATENT_CHANNELS - 1;
  /** Scales the conv net's residual relative to the composition field. */
  private static final double TEXTURE_SCALE = 0.35;
  private static final double BLOB_AMPLITUDE = 0.8;
  /** Scales the conditioning residual: at control_scale 1 it outweighs the prompt's field. */
  private static final double CONTROL_GAIN = 3.5;
  /** Seeds the conditioning weights' own stream, so the base weights keep their values. */
  private static final long CONTROL_STREAM = 0x636f6e74726f6cL;

  boolean hasControl() {
    return controlIn != null;
  }

  static DenoiserWeights create(Parameters p, long weightSeed, ModelArchitecture arch) {
    int h = arch.hidden();
    Operand<TFloat32> conv1 = p.he("conv1", 9 * LATENT_CHANNELS, 3, 3, LATENT_CHANNELS, h);
    Operand<TFloat32> conv1Bias = p.zeros("conv1_bias", h);
    Operand<TFloat32> filmText =
        p.gaussian("film_text", 0.25 / Math.sqrt(EMBEDDING_DIM), EMBEDDING_DIM, 2 * h);
    Operand<TFloat32> filmSigma = p.gaussian("film_sigma", 0.3, SIGMA_FEATURES, 2 * h);
    List<Operand<TFloat32>> middle = new ArrayList<>();
    List<Operand<TFloat32>> middleBias = new ArrayList<>();
    for (int i = 0; i < arch.middleConvs(); i++) {
      String name = i == 0 ? "conv2" : "conv2_" + (i + 1);
      middle.add(p.he(name, 9 * h, 3, 3, h, h));
      middleBias.add(p.zeros(name + "_bias", h));
    }
    Operand<TFloat32> conv3 = p.fixed("conv3", textureOutValues(p, h), 3, 3, h, LATENT_CHANNELS);
    Operand<TFloat32> conv3Bias = p.zeros("conv3_bias", LATENT_CHANNELS);
    Operand<TFloat32> waveParams = p.gaussian("wave_params", 1.0 / Math.sqrt(EMBEDDING_DIM),
        EMBEDDING_DIM, WAVES * WAVE_PARAMS);
    Operand<TFloat32> waveMix = p.fixed("wave_mix", waveMixValues(p), 1, 1, WAVES, LATENT_CHANNELS);
    Operand<TFloat32> blobMix =
        p.fixed("blob_mix", blobMixValues(p), 1, 1, LATENT_CHANNELS, LATENT_CHANNELS);
    Operand<TFloat32> smooth =
        p.fixed("smooth", binomialKernel(), 3, 3, LATENT_CHANNELS, LATENT_CHANNELS);

    Operand<TFloat32> controlIn = null;
    Operand<TFloat32> controlOut = null;
    if (arch.hasConditioning()) {
      Parameters c = p.stream(weightSeed ^ CONTROL_STREAM);
      controlIn = c.he("control_in", 9, 3, 3, 1, h);
      controlOut = c.fixed("control_out", controlOutValues(c, h), 3, 3, h, LATENT_CHANNELS);
    }
    return new DenoiserWeights(h, conv1, conv1Bias, filmText, filmSigma, List.copyOf(middle),
        List.copyOf(middleBias), conv3, conv3Bias, waveParams, waveMix, blobMix, smooth, controlIn,
        controlOut);
  }

  /** [3][3][hidden][4]: the texture writes every channel but the seed channel. */
  private static float[] textureOutValues(Parameters p, int hidden) {
    float[] k = p.sample(9 * hidden * LATENT_CHANNELS, TEXTURE_SCALE / Math.sqrt(9 * hidden));
    for (int i = SEED_CHANNEL; i < k.length; i += LATENT_CHANNELS) {
      k[i] = 0f;
    }
    return k;
  }

  /** [3][3][hidden][4]: conditioning writes the composition channels, like the prompt's field. */
  private static float[] controlOutValues(Parameters p, int hidden) {
    float[] k = p.sample(9 * hidden * LATENT_CHANNELS, CONTROL_GAIN / Math.sqrt(9 * hidden));
    for (int i = SEED_CHANNEL; i < k.length; i += LATENT_CHANNELS) {
      k[i] = 0f;
    }
    return k;
  }

  /** [WAVES][4]: the waves drive the composition channels 0..2 only. */
  private static float[] waveMixValues(Parameters p) {
    float[] mix = p.sample(WAVES * LATENT_CHANNELS, 1.0 / Math.sqrt(WAVES));
    for (int wave = 0; wave < WAVES; wave++) {
      mix[wave * LATENT_CHANNELS + SEED_CHANNEL] = 0f;
    }
    return mix;
  }

  /**
   * [4][4]: blobs read only the seed channel, which neither the composition nor the texture
   * writes, so the prompt cannot take over their layout. They write the seed channel and,
   * scaled by a seeded factor, the one beside it.
   */
  private static float[] blobMixValues(Parameters p) {
    float[] mix = new float[LATENT_CHANNELS * LATENT_CHANNELS];
    float[] side = p.sample(1, 0.5);
    mix[SEED_CHANNEL * LATENT_CHANNELS + SEED_CHANNEL] = (float) BLOB_AMPLITUDE;
    mix[SEED_CHANNEL * LATENT_CHANNELS + SEED_CHANNEL - 1] = (float) (BLOB_AMPLITUDE * side[0]);
    return mix;
  }

  /**
   * [3][3][4][4] kernel of a per-channel [1 2 1] x [1 2 1] / 16 blur (a plain conv with a
   * diagonal kernel: TF's CPU depthwise conv is slower at this size).
   */
  private static float[] binomialKernel() {
    int[] taps = {1, 2, 1};
    int c2 = LATENT_CHANNELS * LATENT_CHANNELS;
    float[] k = new float[9 * c2];
    for (int ky = 0; ky < 3; ky++) {
      for (int kx = 0; kx < 3; kx++) {
        for (int c = 0; c < LATENT_CHANNELS; c++) {
          k[(ky * 3 + kx) * c2 + c * LATENT_CHANNELS + c] = taps[ky] * taps[kx] / 16f;
        }
      }
    }
    return k;
  }
}
