package dev.genmesh.inference.model;

import static dev.genmesh.inference.model.DenoiserWeights.SIGMA_FEATURES;
import static dev.genmesh.inference.model.DenoiserWeights.WAVES;
import static dev.genmesh.inference.model.DenoiserWeights.WAVE_PARAMS;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * D(x, sigma, emb): the denoiser the sampler calls, with Karras preconditioning (sigma_data = 1):
 * c_skip * smooth(x) + c_out * F(c_in * x). F sums three untrained but purposeful parts:
 *
 * <ul>
 *   <li>a field of linear and radial waves set by the prompt (the composition);
 *   <li>soft-thresholded block means of the noisy latent (the seed's blobs);
 *   <li>a FiLM-conditioned conv net (texture): conv 4→hidden, middle convs, hidden→4.
 * </ul>
 *
 * <p>An {@link Adaptation} adds LoRA deltas to the composition weights and the first middle conv,
 * and conditioning features to the conv net's first layer and to F. With zero scales it adds
 * exact zeros, so the result equals the plain denoiser bit for bit.
 */
final class DenoiserNet {

  /** Amplitude of the composition field, before guidance multiplies it. */
  private static final float COMPOSITION_GAIN = 0.45f;
  /** Latent cells per side averaged into one blob sample (64 image pixels). */
  private static final int BLOB_BLOCK = 8;
  private static final float BLOB_GAIN = 10f;
  private static final List<Long> UNIT_STRIDES = List.of(1L, 1L, 1L, 1L);

  /**
   * What a variant signature feeds in besides the base inputs; null parts are absent.
   *
   * @param waveDelta already scaled LoRA delta of {@code wave_params} [256, 84]
   * @param convDelta already scaled LoRA delta of the first middle conv [3, 3, h, h]
   * @param control conditioning image at latent resolution [2b, h, w, 1] in [0, 1]
   */
  record Adaptation(Operand<TFloat32> waveDelta, Operand<TFloat32> convDelta,
      Operand<TFloat32> control, Operand<TFloat32> controlScale) {
    static final Adaptation NONE = new Adaptation(null, null, null, null);
  }

  private final Ops tf;
  private final DenoiserWeights w;
  private final Adaptation adaptation;

  DenoiserNet(Ops tf, DenoiserWeights w, Adaptation adaptation) {
    this.tf = tf;
    this.w = w;
    this.adaptation = adaptation;
  }

  Operand<TFloat32> denoised(Operand<TFloat32> x, Operand<TFloat32> emb, Operand<TFloat32> sigma) {
    Operand<TFloat32> cIn = tf.math.rsqrt(tf.math.add(tf.math.square(sigma), tf.constant(1f)));
    Operand<TFloat32> cSkip = tf.math.square(cIn);
    Operand<TFloat32> cOut = tf.math.mul(sigma, cIn);
    Operand<TFloat32> scaled = tf.math.mul(x, cIn);
    Operand<TFloat32> controlFeatures = controlFeatures();
    Operand<TFloat32> f =
        tf.math.add(
            tf.math.add(composition(x, emb), blobs(scaled)),
            texture(scaled, emb, sigma, controlFeatures));
    if (controlFeatures != null) {
      Operand<TFloat32> residual = tf.nn.conv2d(controlFeatures, w.controlOut(), UNIT_STRIDES, "SAME");
      f = tf.math.add(f, tf.math.mul(adaptation.controlScale(), residual));
    }
    Operand<TFloat32> smoothed = tf.nn.conv2d(x, w.smooth(), UNIT_STRIDES, "SAME");
    return tf.math.add(tf.math.mul(cSkip, smoothed), tf.math.mul(cOut, f));
  }

  /** The conditioning image as features [2b, h, w, hidden] in (-1, 1), or null without one. */
  private Operand<TFloat32> controlFeatures() {
    if (adaptation.control() == null) {
      return null;
    }
    // 0.5 grey is neutral, edges (white) and background (black) push in opposite directions.
    Operand<TFloat32> centred =
        tf.math.sub(tf.math.mul(adaptation.control(), tf.constant(2f)), tf.constant(1f));
    return tf.math.tanh(tf.nn.conv2d(centred, w.controlIn(), UNIT_STRIDES, "SAME"));
  }

  /**
   * Soft-thresholded low-pass of the input (8x8 cell means, bilinearly stretched back): large
   * smooth regions whose layout comes from the noise, so different seeds give different
   * arrangements.
   */
  private Operand<TFloat32> blobs(Operand<TFloat32> scaled) {
    List<Long> block = List.of(1L, (long) BLOB_BLOCK, (long) BLOB_BLOCK, 1L);
    Operand<TFloat32> means = tf.nn.avgPool(scaled, block, block, "VALID");
    Operand<TInt32> size = tf.slice(tf.shape(scaled), tf.constant(new int[] {1}),
        tf.constant(new int[] {2}));
    Operand<TFloat32> lowPass = tf.image.resizeBilinear(means, size);
    Operand<TFloat32> regions = tf.math.tanh(tf.math.mul(lowPass, tf.constant(BLOB_GAIN)));
    return tf.nn.conv2d(regions, w.blobMix(), UNIT_STRIDES, "SAME");
  }

  /** The conv net on c_in * x: 4 -> hidden (FiLM from text and sigma) -> middles -> 4. */
  private Operand<TFloat32> texture(Operand<TFloat32> scaled, Operand<TFloat32> emb,
      Operand<TFloat32> sigma, Operand<TFloat32> controlFeatures) {
    int hidden = w.hidden();
    Operand<TFloat32> film =
        tf.math.add(
            Layers.rowwise(tf, emb, w.filmText(), 2 * hidden),
            tf.linalg.matMul(sigmaFeatures(sigma), w.filmSigma()));
    List<Operand<TFloat32>> scaleShift = splitInTwo(film, 1);
    Operand<TFloat32> scale = perChannel(scaleShift.get(0), hidden);
    Operand<TFloat32> shift = perChannel(scaleShift.get(1), hidden);

    Operand<TFloat32> h = Layers.conv(tf, scaled, w.conv1(), w.conv1Bias());
    h = tf.math.add(tf.math.mul(h, tf.math.add(scale, tf.constant(1f))), shift);
    if (controlFeatures != null) {
      h = tf.math.add(h, tf.math.mul(adaptation.controlScale(), controlFeatures));
    }
    h = Layers.silu(tf, h);
    for (int i = 0; i < w.middle().size(); i++) {
      Operand<TFloat32> kernel = w.middle().get(i);
      if (i == 0 && adaptation.convDelta() != null) {
        kernel = tf.math.add(kernel, adaptation.convDelta());
      }
      h = Layers.silu(tf, Layers.conv(tf, h, kernel, w.middleBias().get(i)));
    }
    return Layers.conv(tf, h, w.conv3(), w.conv3Bias());
  }

  /**
   * A smooth field over the latent grid: a mix of linear and radial waves whose frequencies,
   * centres, phases and amplitudes come from the text embedding. Zero for the zero embedding.
   */
  private Operand<TFloat32> composition(Operand<TFloat32> x, Operand<TFloat32> emb) {
    Operand<TInt32> dims = tf.shape(x);
    Operand<TFloat32> ys = gridAxis(dims, 1, new int[] {1, -1, 1, 1});
    Operand<TFloat32> xs = gridAxis(dims, 2, new int[] {1, 1, -1, 1});

    Operand<TFloat32> waveParams = w.waveParams();
    if (adaptation.waveDelta() != null) {
      waveParams = tf.math.add(waveParams, adaptation.waveDelta());
    }
    Operand<TFloat32> raw = Layers.rowwise(tf, emb, waveParams, WAVES * WAVE_PARAMS);
    List<Operand<TFloat32>> p = new ArrayList<>();
    for (Operand<TFloat32> part : tf.split(tf.constant(1), raw, (long) WAVE_PARAMS)) {
      p.add(tf.reshape(part, tf.constant(new int[] {-1, 1, 1, WAVES})));
    }
    Operand<TFloat32> fx = scaledTanh(p.get(0), 3f);
    Operand<TFloat32> fy = scaledTanh(p.get(1), 3f);
    Operand<TFloat32> fr = scaledTanh(p.get(2), 4f);
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
  private Operand<TFloat32> gridAxis(Operand<TInt32> dims, int axis, int[] broadcastShape) {
    Operand<TInt32> n = tf.gather(dims, tf.constant(axis), tf.constant(0));
    Operand<TFloat32> index = tf.dtypes.cast(tf.range(tf.constant(0), n, tf.constant(1)),
        TFloat32.class);
    Operand<TFloat32> centred =
        tf.math.div(tf.math.add(index, tf.constant(0.5f)), tf.dtypes.cast(n, TFloat32.class));
    return tf.reshape(centred, tf.constant(broadcastShape));
  }

  /** [1, 5]: log-sigma on a few scales, so FiLM can tell early steps from late ones. */
  private Operand<TFloat32> sigmaFeatures(Operand<TFloat32> sigma) {
    Operand<TFloat32> t = tf.math.mul(tf.math.log(sigma), tf.constant(0.25f));
    Operand<TFloat32> t2 = tf.math.mul(t, tf.constant(2f));
    Operand<TFloat32> features =
        tf.stack(List.of(tf.math.sin(t), tf.math.cos(t), tf.math.sin(t2), tf.math.cos(t2), t));
    return tf.reshape(features, tf.constant(new int[] {1, SIGMA_FEATURES}));
  }

  private Operand<TFloat32> perChannel(Operand<TFloat32> v, int hidden) {
    return tf.reshape(v, tf.constant(new int[] {-1, 1, 1, hidden}));
  }

  private Operand<TFloat32> scaledTanh(Operand<TFloat32> v, float scale) {
    return tf.math.mul(tf.math.tanh(v), tf.constant(scale));
  }

  List<Operand<TFloat32>> splitInTwo(Operand<TFloat32> v, int axis) {
    List<Operand<TFloat32>> halves = new ArrayList<>(2);
    tf.split(tf.constant(axis), v, 2L).forEach(halves::add);
    return halves;
  }
}
