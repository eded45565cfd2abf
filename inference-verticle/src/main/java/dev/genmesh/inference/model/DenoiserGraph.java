package dev.genmesh.inference.model;

import static dev.genmesh.inference.model.ModelContract.ADAPTER_SCALE;
import static dev.genmesh.inference.model.ModelContract.COND;
import static dev.genmesh.inference.model.ModelContract.CONTROL;
import static dev.genmesh.inference.model.ModelContract.CONTROL_SCALE;
import static dev.genmesh.inference.model.ModelContract.DENOISE_STEP;
import static dev.genmesh.inference.model.ModelContract.DENOISE_STEP_CONTROL;
import static dev.genmesh.inference.model.ModelContract.DENOISE_STEP_LORA;
import static dev.genmesh.inference.model.ModelContract.DENOISE_STEP_LORA_CONTROL;
import static dev.genmesh.inference.model.ModelContract.EMBEDDING_DIM;
import static dev.genmesh.inference.model.ModelContract.GUIDANCE;
import static dev.genmesh.inference.model.ModelContract.LATENT;
import static dev.genmesh.inference.model.ModelContract.LATENT_CHANNELS;
import static dev.genmesh.inference.model.ModelContract.LORA_CONV_A;
import static dev.genmesh.inference.model.ModelContract.LORA_CONV_B;
import static dev.genmesh.inference.model.ModelContract.LORA_WAVE_A;
import static dev.genmesh.inference.model.ModelContract.LORA_WAVE_B;
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

/**
 * {@code denoise_step} and its variants: one Euler step of classifier-free-guided sampling, all
 * in the graph. eps = (x - D) / sigma is evaluated for cond and uncond in one batch of 2b, guided,
 * and integrated with one Euler step. The variants share the weights and add LoRA factors
 * ({@code _lora}), a conditioning image ({@code _control}) or both.
 */
final class DenoiserGraph {

  private DenoiserGraph() {}

  /** The base signature, then the variants the architecture's adapters and conditioning need. */
  static List<Signature> build(Ops root, Parameters rootParams, long weightSeed,
      ModelArchitecture arch) {
    Ops scope = root.withSubScope("denoise");
    DenoiserWeights w = DenoiserWeights.create(rootParams.in(scope), weightSeed, arch);
    List<Signature> signatures = new ArrayList<>();
    signatures.add(step(scope, w, DENOISE_STEP, false, false));
    if (arch.hasAdapters()) {
      signatures.add(step(root.withSubScope("denoise_lora"), w, DENOISE_STEP_LORA, true, false));
    }
    if (arch.hasConditioning()) {
      signatures.add(
          step(root.withSubScope("denoise_control"), w, DENOISE_STEP_CONTROL, false, true));
    }
    if (arch.hasAdapters() && arch.hasConditioning()) {
      signatures.add(step(root.withSubScope("denoise_lora_control"), w, DENOISE_STEP_LORA_CONTROL,
          true, true));
    }
    return signatures;
  }

  private static Signature step(Ops tf, DenoiserWeights w, String name, boolean lora,
      boolean control) {
    Placeholder<TFloat32> latent = input(tf, LATENT, Shape.of(-1, -1, -1, LATENT_CHANNELS));
    Placeholder<TFloat32> cond = input(tf, COND, Shape.of(-1, EMBEDDING_DIM));
    Placeholder<TFloat32> uncond = input(tf, UNCOND, Shape.of(-1, EMBEDDING_DIM));
    Placeholder<TFloat32> sigma = input(tf, SIGMA, Shape.scalar());
    Placeholder<TFloat32> sigmaNext = input(tf, SIGMA_NEXT, Shape.scalar());
    Placeholder<TFloat32> guidance = input(tf, GUIDANCE, Shape.scalar());
    Signature.Builder signature = Signature.builder(name)
        .input(LATENT, latent)
        .input(COND, cond)
        .input(UNCOND, uncond)
        .input(SIGMA, sigma)
        .input(SIGMA_NEXT, sigmaNext)
        .input(GUIDANCE, guidance);

    Operand<TFloat32> waveDelta = null;
    Operand<TFloat32> convDelta = null;
    if (lora) {
      int h = w.hidden();
      int wave = DenoiserWeights.WAVES * DenoiserWeights.WAVE_PARAMS;
      Placeholder<TFloat32> waveA = input(tf, LORA_WAVE_A, Shape.of(EMBEDDING_DIM, -1));
      Placeholder<TFloat32> waveB = input(tf, LORA_WAVE_B, Shape.of(-1, wave));
      Placeholder<TFloat32> convA = input(tf, LORA_CONV_A, Shape.of(9L * h, -1));
      Placeholder<TFloat32> convB = input(tf, LORA_CONV_B, Shape.of(-1, h));
      Placeholder<TFloat32> scale = input(tf, ADAPTER_SCALE, Shape.scalar());
      // Weight-sized products, the same for every batch: W + scale * A·B.
      waveDelta = tf.math.mul(scale, tf.linalg.matMul(waveA, waveB));
      convDelta = tf.math.mul(scale,
          tf.reshape(tf.linalg.matMul(convA, convB), tf.constant(new int[] {3, 3, h, h})));
      signature.input(LORA_WAVE_A, waveA).input(LORA_WAVE_B, waveB)
          .input(LORA_CONV_A, convA).input(LORA_CONV_B, convB).input(ADAPTER_SCALE, scale);
    }
    Operand<TFloat32> control2 = null;
    Operand<TFloat32> controlScale = null;
    if (control) {
      Placeholder<TFloat32> image = input(tf, CONTROL, Shape.of(-1, -1, -1, 1));
      Placeholder<TFloat32> scale = input(tf, CONTROL_SCALE, Shape.scalar());
      control2 = tf.concat(List.of(image, image), tf.constant(0));
      controlScale = scale;
      signature.input(CONTROL, image).input(CONTROL_SCALE, scale);
    }
    DenoiserNet net = new DenoiserNet(tf, w,
        new DenoiserNet.Adaptation(waveDelta, convDelta, control2, controlScale));

    // Cond and uncond run as one batch of 2b: one pass through each conv.
    Operand<TFloat32> x2 = tf.concat(List.of(latent, latent), tf.constant(0));
    Operand<TFloat32> emb2 = tf.concat(List.of(cond, uncond), tf.constant(0));
    Operand<TFloat32> eps2 = tf.math.div(tf.math.sub(x2, net.denoised(x2, emb2, sigma)), sigma);
    List<Operand<TFloat32>> eps = net.splitInTwo(eps2, 0);
    Operand<TFloat32> epsCond = eps.get(0);
    Operand<TFloat32> epsUncond = eps.get(1);
    Operand<TFloat32> guided =
        tf.math.add(epsUncond, tf.math.mul(guidance, tf.math.sub(epsCond, epsUncond)));
    Operand<TFloat32> next =
        tf.withName("next_latent")
            .math.add(latent, tf.math.mul(tf.math.sub(sigmaNext, sigma), guided));
    return signature.output(LATENT, next).build();
  }

  private static Placeholder<TFloat32> input(Ops tf, String name, Shape shape) {
    return tf.withName(name).placeholder(TFloat32.class, Placeholder.shape(shape));
  }
}
