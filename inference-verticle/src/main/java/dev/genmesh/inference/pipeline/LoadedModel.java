package dev.genmesh.inference.pipeline;

import static dev.genmesh.inference.model.ModelContract.COND;
import static dev.genmesh.inference.model.ModelContract.DECODE;
import static dev.genmesh.inference.model.ModelContract.DENOISE_STEP;
import static dev.genmesh.inference.model.ModelContract.EMBEDDING;
import static dev.genmesh.inference.model.ModelContract.ENCODE_TEXT;
import static dev.genmesh.inference.model.ModelContract.GUIDANCE;
import static dev.genmesh.inference.model.ModelContract.IMAGE;
import static dev.genmesh.inference.model.ModelContract.LATENT;
import static dev.genmesh.inference.model.ModelContract.SIGMA;
import static dev.genmesh.inference.model.ModelContract.SIGMA_NEXT;
import static dev.genmesh.inference.model.ModelContract.TOKENS;
import static dev.genmesh.inference.model.ModelContract.UNCOND;

import dev.genmesh.inference.model.ModelManifest;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A verified SavedModel in memory, with its three contract signatures as plain-array calls.
 * Every tensor lives only for the duration of one call. Calls may come from several threads;
 * close only when none is running.
 */
public final class LoadedModel implements AutoCloseable {

  private final Path directory;
  private final ModelManifest manifest;
  private final SavedModelBundle bundle;
  private final SessionFunction encodeText;
  private final SessionFunction denoiseStep;
  private final SessionFunction decode;

  LoadedModel(Path directory, ModelManifest manifest, SavedModelBundle bundle) {
    this.directory = directory;
    this.manifest = manifest;
    this.bundle = bundle;
    this.encodeText = contractFunction(bundle, ENCODE_TEXT, Set.of(TOKENS), EMBEDDING);
    this.denoiseStep = contractFunction(bundle, DENOISE_STEP,
        Set.of(LATENT, COND, UNCOND, SIGMA, SIGMA_NEXT, GUIDANCE), LATENT);
    this.decode = contractFunction(bundle, DECODE, Set.of(LATENT), IMAGE);
  }

  public Path directory() {
    return directory;
  }

  public ModelManifest manifest() {
    return manifest;
  }

  /** Token rows (each {@code TOKEN_LENGTH} ids) to embedding rows. */
  public float[][] encodeText(int[][] tokens) {
    int rows = tokens.length;
    int length = tokens[0].length;
    int[] flat = new int[rows * length];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(tokens[r], 0, flat, r * length, length);
    }
    try (TInt32 input = TInt32.tensorOf(Shape.of(rows, length), DataBuffers.of(flat, true, false));
        Result result = encodeText.call(Map.of(TOKENS, input))) {
      TFloat32 out = output(result, ENCODE_TEXT, EMBEDDING);
      int dim = (int) out.shape().get(1);
      float[] values = read(out);
      float[][] embeddings = new float[rows][dim];
      for (int r = 0; r < rows; r++) {
        System.arraycopy(values, r * dim, embeddings[r], 0, dim);
      }
      return embeddings;
    }
  }

  /** The latent after a step, and how long the TensorFlow call itself took. */
  public record StepOutput(NhwcArray latent, long nanosInTensorFlow) {}

  /** One guided Euler step from {@code sigma} to {@code sigmaNext}. */
  public StepOutput denoiseStep(NhwcArray latent, float[][] cond, float[][] uncond, float sigma,
      float sigmaNext, float guidance) {
    try (TFloat32 latentIn = tensor(latent);
        TFloat32 condIn = tensor(cond);
        TFloat32 uncondIn = tensor(uncond);
        TFloat32 sigmaIn = TFloat32.scalarOf(sigma);
        TFloat32 sigmaNextIn = TFloat32.scalarOf(sigmaNext);
        TFloat32 guidanceIn = TFloat32.scalarOf(guidance)) {
      Map<String, Tensor> inputs = Map.of(LATENT, latentIn, COND, condIn, UNCOND, uncondIn,
          SIGMA, sigmaIn, SIGMA_NEXT, sigmaNextIn, GUIDANCE, guidanceIn);
      long start = System.nanoTime();
      try (Result result = denoiseStep.call(inputs)) {
        long nanos = System.nanoTime() - start;
        return new StepOutput(nhwc(output(result, DENOISE_STEP, LATENT)), nanos);
      }
    }
  }

  /** Latent to RGB image in [0, 1]. */
  public NhwcArray decode(NhwcArray latent) {
    try (TFloat32 latentIn = tensor(latent);
        Result result = decode.call(Map.of(LATENT, latentIn))) {
      return nhwc(output(result, DECODE, IMAGE));
    }
  }

  @Override
  public void close() {
    bundle.close();
  }

  private static SessionFunction contractFunction(
      SavedModelBundle bundle, String name, Set<String> inputs, String output) {
    Signature signature = bundle.signatures().stream()
        .filter(s -> s.key().equals(name))
        .findFirst()
        .orElseThrow(() -> new IncompatibleModelException("model has no signature '" + name
            + "'; it has " + bundle.signatures().stream().map(Signature::key).toList()));
    if (!signature.inputNames().equals(inputs)) {
      throw new IncompatibleModelException("signature '" + name + "' takes "
          + signature.inputNames() + ", the contract says " + inputs);
    }
    if (!signature.outputNames().contains(output)) {
      throw new IncompatibleModelException("signature '" + name + "' returns "
          + signature.outputNames() + ", the contract needs '" + output + "'");
    }
    return bundle.function(name);
  }

  private static TFloat32 output(Result result, String signature, String key) {
    Tensor t = result.get(key).orElseThrow(
        () -> new IncompatibleModelException(signature + " returned no '" + key + "'"));
    if (!(t instanceof TFloat32 f)) {
      throw new IncompatibleModelException(signature + "." + key + " is " + t.dataType()
          + ", the contract says FLOAT");
    }
    return f;
  }

  private static TFloat32 tensor(NhwcArray a) {
    return TFloat32.tensorOf(a.shape(), DataBuffers.of(a.data(), true, false));
  }

  private static TFloat32 tensor(float[][] rows) {
    int dim = rows[0].length;
    float[] flat = new float[rows.length * dim];
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(rows[r], 0, flat, r * dim, dim);
    }
    return TFloat32.tensorOf(Shape.of(rows.length, dim), DataBuffers.of(flat, true, false));
  }

  private static NhwcArray nhwc(TFloat32 t) {
    Shape s = t.shape();
    if (s.numDimensions() != 4) {
      throw new IncompatibleModelException("expected a 4-d output, got " + s);
    }
    return new NhwcArray(read(t), (int) s.get(0), (int) s.get(1), (int) s.get(2),
        (int) s.get(3));
  }

  private static float[] read(TFloat32 t) {
    float[] values = new float[(int) t.shape().size()];
    t.copyTo(DataBuffers.of(values, false, false));
    return values;
  }
}
