package dev.genmesh.inference.model;

import static dev.genmesh.inference.model.ModelContract.COND;
import static dev.genmesh.inference.model.ModelContract.DENOISE_STEP;
import static dev.genmesh.inference.model.ModelContract.EMBEDDING_DIM;
import static dev.genmesh.inference.model.ModelContract.GUIDANCE;
import static dev.genmesh.inference.model.ModelContract.LATENT;
import static dev.genmesh.inference.model.ModelContract.LATENT_CHANNELS;
import static dev.genmesh.inference.model.ModelContract.SIGMA;
import static dev.genmesh.inference.model.ModelContract.SIGMA_NEXT;
import static dev.genmesh.inference.model.ModelContract.UNCOND;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * {@code denoise_step}: one Euler step of classifier-free-guided sampling, all in the graph.
 *
 * <p>The denoiser D(x, sigma, emb) sums three untrained but purposeful parts: a field of waves
 * set by the prompt (the composition), soft-thresholded block means of the noisy latent (the
 * seed's blobs) and a small FiLM-conditioned conv net (texture). eps = (x - D) / sigma, evaluated
 * for cond and uncond in one batch, then guided and integrated with one Euler step.
 */
final class DenoiserGraph {

  static final int HIDDEN = 32;
  /** Wave components of the composition field. */
  static final int WAVES = 12;
  /** Per wave: x-frequency, y-frequency, radial frequency, centre x, centre y, phase, amplitude. */
  private static final int WAVE_PARAMS = 7;
  private static final int SIGMA_FEATURES = 5;
  /** Scales the conv net's residual relative to the composition field. */
  private static final double TEXTURE_SCALE = 0.35;
  /** Amplitude of the composition field, before guidance multiplies it. */
  private static final float COMPOSITION_GAIN = 0.45f;
  /** The latent channel that carries the seed's layout (see {@link #blobMixValues}). */
  private static final int SEED_CHANNEL = LATENT_CHANNELS - 1;
  /** Latent cells per side averaged into one blob sample (64 image pixels). */
  private static final int BLOB_BLOCK = 8;
  private static final float BLOB_GAIN = 10f;
  private static final double BLOB_AMPLITUDE = 0.8;
  private static final List<Long> UNIT_STRIDES = List.of(1L, 1L, 1L, 1L);

  private DenoiserGraph() {}

  private record Weights(
      Operand<TFloat32> conv1,
      Operand<TFloat32> conv1Bias,
      Operand<TFloat32> filmText,
      Operand<TFloat32> filmSigma,
      Operand<TFloat32> conv2,
      Operand<TFloat32> conv2Bias,
      Operand<TFloat32> conv3,
      Operand<TFloat32> conv3Bias,
      Operand<TFloat32> waveParams,
      Operand<TFloat32> waveMix,
      Operand<TFloat32> blobMix,
      Operand<TFloat32> smooth) {

    static Weights create(Parameters p) {
      return new Weights(
          p.he("conv1", 9 * LATENT_CHANNELS, 3, 3, LATENT_CHANNELS, HIDDEN),
          p.zeros("conv1_bias", HIDDEN),
          p.gaussian("film_text", 0.25 / Math.sqrt(EMBEDDING_DIM), EMBEDDING_DIM, 2 * HIDDEN),
          p.gaussian("film_sigma", 0.3, SIGMA_FEATURES, 2 * HIDDEN),
          p.he("conv2", 9 * HIDDEN, 3, 3, HIDDEN, HIDDEN),
          p.zeros("conv2_bias", HIDDEN),
          p.fixed("conv3", textureOutValues(p), 3, 3, HIDDEN, LATENT_CHANNELS),
          p.zeros("conv3_bias", LATENT_CHANNELS),
          p.gaussian("wave_params", 1.0 / Math.sqrt(EMBEDDING_DIM), EMBEDDING_DIM,
              WAVES * WAVE_PARAMS),
          p.fixed("wave_mix", waveMixValues(p), 1, 1, WAVES, LATENT_CHANNELS),
          p.fixed("blob_mix", blobMixValues(p), 1, 1, LATENT_CHANNELS, LATENT_CHANNELS),
          p.fixed("smooth", binomialKernel(), 3, 3, LATENT_CHANNELS, LATENT_CHANNELS));
    }
  }

  static Signature build(Ops root, Parameters rootParams) {
    Ops tf = root.withSubScope("denoise");
    Weights w = Weights.create(rootParams.in(tf));

    Placeholder<TFloat32> latent = tf.withName(LATENT).placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(-1, -1, -1, LATENT_CHANNELS)));
    Placeholder<TFloat32> cond = tf.withName(COND).placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(-1, EMBEDDING_DIM)));
    Placeholder<TFloat32> uncond = tf.withName(UNCOND).placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(-1, EMBEDDING_DIM)));
    Placeholder<TFloat32> sigma =
        tf.withName(SIGMA).placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    Placeholder<TFloat32> sigmaNext =
        tf.withName(SIGMA_NEXT).placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    Placeholder<TFloat32> guidance =
        tf.withName(GUIDANCE).placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));

    // Cond and uncond run as one batch of 2b: one pass through each conv.
    Operand<TFloat32> x2 = tf.concat(List.of(latent, latent), tf.constant(0));
    Operand<TFloat32> emb2 = tf.concat(List.of(cond, uncond), tf.constant(0));
    Operand<TFloat32> eps2 = tf.math.div(tf.math.sub(x2, denoised(tf, w, x2, emb2, sigma)), sigma);
    List<Operand<TFloat32>> eps = splitInTwo(tf, eps2, 0);
    Operand<TFloat32> epsCond = eps.get(0);
    Operand<TFloat32> epsUncond = eps.get(1);
    Operand<TFloat32> guided =
        tf.math.add(epsUncond, tf.math.mul(guidance, tf.math.sub(epsCond, epsUncond)));
    Operand<TFloat32> next =
        tf.withName("next_latent")
            .math.add(latent, tf.math.mul(tf.math.sub(sigmaNext, sigma), guided));

    return Signature.builder(DENOISE_STEP)
        .input(LATENT, latent)
        .input(COND, cond)
        .input(UNCOND, uncond)
        .input(SIGMA, sigma)
        .input(SIGMA_NEXT, sigmaNext)
        .input(GUIDANCE, guidance)
        .output(LATENT, next)
        .build();
  }

  /**
   * D(x, sigma, emb) with Karras preconditioning (sigma_data = 1): c_skip * smooth(x) +
   * c_out * F(c_in * x). Late steps mostly keep (and gently smooth) what the latent already is,
   * which is how the seed's early blobs survive to the image; early steps mostly follow F.
   */
  private static Operand<TFloat32> denoised(
      Ops tf, Weights w, Operand<TFloat32> x, Operand<TFloat32> emb, Operand<TFloat32> sigma) {
    Operand<TFloat32> cIn = tf.math.rsqrt(tf.math.add(tf.math.square(sigma), tf.constant(1f)));
    Operand<TFloat32> cSkip = tf.math.square(cIn);
    Operand<TFloat32> cOut = tf.math.mul(sigma, cIn);
    Operand<TFloat32> scaled = tf.math.mul(x, cIn);
    Operand<TFloat32> f =
        tf.math.add(
            tf.math.add(composition(tf, w, x, emb), blobs(tf, w, scaled)),
            texture(tf, w, scaled, emb, sigma));
    Operand<TFloat32> smoothed =
        tf.nn.conv2d(x, w.smooth(), UNIT_STRIDES, "SAME");
    return tf.math.add(tf.math.mul(cSkip, smoothed), tf.math.mul(cOut, f));
  }

  /**
   * Soft-thresholded low-pass of the input (8x8 cell means, bilinearly stretched back): large
   * smooth regions whose layout comes from the noise, so different seeds give different
   * arrangements.
   */
  private static Operand<TFloat32> blobs(Ops tf, Weights w, Operand<TFloat32> scaled) {
    List<Long> block = List.of(1L, (long) BLOB_BLOCK, (long) BLOB_BLOCK, 1L);
    Operand<TFloat32> means = tf.nn.avgPool(scaled, block, block, "VALID");
    Operand<TInt32> size = tf.slice(tf.shape(scaled), tf.constant(new int[] {1}),
        tf.constant(new int[] {2}));
    Operand<TFloat32> lowPass = tf.image.resizeBilinear(means, size);
    Operand<TFloat32> regions = tf.math.tanh(tf.math.mul(lowPass, tf.constant(BLOB_GAIN)));
    return tf.nn.conv2d(regions, w.blobMix(), UNIT_STRIDES, "SAME");
  }

  /** The conv net on c_in * x: 4 -> 32 (FiLM from text and sigma) -> 32 -> 4. */
  private static Operand<TFloat32> texture(Ops tf, Weights w, Operand<TFloat32> scaled,
      Operand<TFloat32> emb, Operand<TFloat32> sigma) {
    Operand<TFloat32> film =
        tf.math.add(
            tf.linalg.matMul(emb, w.filmText()),
            tf.linalg.matMul(sigmaFeatures(tf, sigma), w.filmSigma()));
    List<Operand<TFloat32>> scaleShift = splitInTwo(tf, film, 1);
    Operand<TFloat32> scale = perChannel(tf, scaleShift.get(0));
    Operand<TFloat32> shift = perChannel(tf, scaleShift.get(1));

    Operand<TFloat32> h = Layers.conv(tf, scaled, w.conv1(), w.conv1Bias());
    h = tf.math.add(tf.math.mul(h, tf.math.add(scale, tf.constant(1f))), shift);
    h = Layers.silu(tf, h);
    h = Layers.silu(tf, Layers.conv(tf, h, w.conv2(), w.conv2Bias()));
    return Layers.conv(tf, h, w.conv3(), w.conv3Bias());
  }

  /**
   * A smooth field over the latent grid: a mix of linear and radial waves whose frequencies,
   * centres, phases and amplitudes come from the text embedding. Zero for the zero embedding.
   */
  private static Operand<TFloat32> composition(
      Ops tf, Weights w, Operand<TFloat32> x, Operand<TFloat32> emb) {
    Operand<TInt32> dims = tf.shape(x);
    Operand<TFloat32> ys = gridAxis(tf, dims, 1, new int[] {1, -1, 1, 1});
    Operand<TFloat32> xs = gridAxis(tf, dims, 2, new int[] {1, 1, -1, 1});

    Operand<TFloat32> raw = tf.linalg.matMul(emb, w.waveParams());
    List<Operand<TFloat32>> p = new ArrayList<>();
    for (Operand<TFloat32> part : tf.split(tf.constant(1), raw, (long) WAVE_PARAMS)) {
      p.add(tf.reshape(part, tf.constant(new int[] {-1, 1, 1, WAVES})));
    }
    Operand<TFloat32> fx = scaledTanh(tf, p.get(0), 3f);
    Operand<TFloat32> fy = scaledTanh(tf, p.get(1), 3f);
    Operand<TFloat32> fr = scaledTanh(tf, p.get(2), 4f);
    Operand<TFloat32> cx = tf.math.sigmoid(tf.math.mul(p.get(3), tf.constant(3f)));
    Operand<TFloat32> cy = tf.math.sigmoid(tf.math.mul(p.get(4), tf.constant(3f)));
    Operand<TFloat32> phase = tf.math.mul(p.get(5), tf.constant((float) (2 * Math.PI)));
    Operand<TFloat32> amplitude = tf.math.mul(p.get(6), tf.constant(COMPOSITION_GAIN));

    Operand<TFloat32> dx = tf.math.sub(xs, cx);
    Operand<TFloat32> dy = tf.math.sub(ys, cy);
    Operand<TFloat32> radius =
        tf.math.sqrt(tf.math.add(tf.math.square(dx), tf.math.square(dy)));
    Operand<TFloat32> cycles =
        tf.math.add(
            tf.math.add(tf.math.mul(fx, xs), tf.math.mul(fy, ys)), tf.math.mul(fr, radius));
    Operand<TFloat32> angle =
        tf.math.add(tf.math.mul(cycles, tf.constant((float) (2 * Math.PI))), phase);
    Operand<TFloat32> waves = tf.math.mul(amplitude, tf.math.sin(angle)); // [2b, h, w, WAVES]
    return tf.nn.conv2d(waves, w.waveMix(), UNIT_STRIDES, "SAME");
  }

  /** Cell centres along one axis of the latent, in (0, 1), reshaped for broadcasting. */
  private static Operand<TFloat32> gridAxis(
      Ops tf, Operand<TInt32> dims, int axis, int[] broadcastShape) {
    Operand<TInt32> n = tf.gather(dims, tf.constant(axis), tf.constant(0));
    Operand<TFloat32> index = tf.dtypes.cast(tf.range(tf.constant(0), n, tf.constant(1)),
        TFloat32.class);
    Operand<TFloat32> centred =
        tf.math.div(tf.math.add(index, tf.constant(0.5f)), tf.dtypes.cast(n, TFloat32.class));
    return tf.reshape(centred, tf.constant(broadcastShape));
  }

  /** [1, 5]: log-sigma on a few scales, so FiLM can tell early steps from late ones. */
  private static Operand<TFloat32> sigmaFeatures(Ops tf, Operand<TFloat32> sigma) {
    Operand<TFloat32> t = tf.math.mul(tf.math.log(sigma), tf.constant(0.25f));
    Operand<TFloat32> t2 = tf.math.mul(t, tf.constant(2f));
    Operand<TFloat32> features =
        tf.stack(List.of(tf.math.sin(t), tf.math.cos(t), tf.math.sin(t2), tf.math.cos(t2), t));
    return tf.reshape(features, tf.constant(new int[] {1, SIGMA_FEATURES}));
  }

  /** [3][3][HIDDEN][4]: the texture writes every channel but the seed channel. */
  private static float[] textureOutValues(Parameters p) {
    float[] k = p.sample(9 * HIDDEN * LATENT_CHANNELS, TEXTURE_SCALE / Math.sqrt(9 * HIDDEN));
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

  private static Operand<TFloat32> perChannel(Ops tf, Operand<TFloat32> v) {
    return tf.reshape(v, tf.constant(new int[] {-1, 1, 1, HIDDEN}));
  }

  private static Operand<TFloat32> scaledTanh(Ops tf, Operand<TFloat32> v, float scale) {
    return tf.math.mul(tf.math.tanh(v), tf.constant(scale));
  }

  private static List<Operand<TFloat32>> splitInTwo(Ops tf, Operand<TFloat32> v, int axis) {
    List<Operand<TFloat32>> halves = new ArrayList<>(2);
    tf.split(tf.constant(axis), v, 2L).forEach(halves::add);
    return halves;
  }
}
