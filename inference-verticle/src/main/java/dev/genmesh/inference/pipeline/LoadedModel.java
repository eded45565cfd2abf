package dev.genmesh.inference.pipeline;

import static dev.genmesh.inference.model.ModelContract.ADAPTER_SCALE;
import static dev.genmesh.inference.model.ModelContract.COND;
import static dev.genmesh.inference.model.ModelContract.CONTROL;
import static dev.genmesh.inference.model.ModelContract.CONTROL_SCALE;
import static dev.genmesh.inference.model.ModelContract.DECODE;
import static dev.genmesh.inference.model.ModelContract.DENOISE_STEP;
import static dev.genmesh.inference.model.ModelContract.DENOISE_STEP_CONTROL;
import static dev.genmesh.inference.model.ModelContract.DENOISE_STEP_LORA;
import static dev.genmesh.inference.model.ModelContract.DENOISE_STEP_LORA_CONTROL;
import static dev.genmesh.inference.model.ModelContract.EMBEDDING;
import static dev.genmesh.inference.model.ModelContract.ENCODE_TEXT;
import static dev.genmesh.inference.model.ModelContract.GUIDANCE;
import static dev.genmesh.inference.model.ModelContract.IMAGE;
import static dev.genmesh.inference.model.ModelContract.LATENT;
import static dev.genmesh.inference.model.ModelContract.LORA_CONV_A;
import static dev.genmesh.inference.model.ModelContract.LORA_CONV_B;
import static dev.genmesh.inference.model.ModelContract.LORA_WAVE_A;
import static dev.genmesh.inference.model.ModelContract.LORA_WAVE_B;
import static dev.genmesh.inference.model.ModelContract.SIGMA;
import static dev.genmesh.inference.model.ModelContract.SIGMA_NEXT;
import static dev.genmesh.inference.model.ModelContract.TOKENS;
import static dev.genmesh.inference.model.ModelContract.UNCOND;

import dev.genmesh.inference.model.LoraAdapter;
import dev.genmesh.inference.model.ModelManifest;
import dev.genmesh.inference.pipeline.impl.NhwcArray;
import dev.genmesh.registry.ManifestFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
 * A verified SavedModel in memory, with its contract signatures as plain-array calls. Every
 * tensor lives only for the duration of one call. The {@code denoise_step_*} variants are
 * optional, but a model must have those its manifest's adapters and conditioning need. Calls may
 * come from several threads; close only when none is running.
 */
public final class LoadedModel implements AutoCloseable {

  private static final Set<String> STEP_INPUTS =
      Set.of(LATENT, COND, UNCOND, SIGMA, SIGMA_NEXT, GUIDANCE);
  private static final Set<String> LORA_INPUTS =
      Set.of(LORA_WAVE_A, LORA_WAVE_B, LORA_CONV_A, LORA_CONV_B, ADAPTER_SCALE);
  private static final Set<String> CONTROL_INPUTS = Set.of(CONTROL, CONTROL_SCALE);

  private final Path directory;
  private final ModelManifest manifest;
  private final SavedModelBundle bundle;
  private final SessionFunction encodeText;
  private final SessionFunction denoiseStep;
  private final SessionFunction decode;
  /** Keyed by (lora, control). */
  private final Map<List<Boolean>, SessionFunction> variants = new HashMap<>();
  private final Map<String, LoraAdapter> adapters = new ConcurrentHashMap<>();

  LoadedModel(Path directory, ModelManifest manifest, SavedModelBundle bundle) {
    this.directory = directory;
    this.manifest = manifest;
    this.bundle = bundle;
    this.encodeText = contractFunction(bundle, ENCODE_TEXT, Set.of(TOKENS), EMBEDDING);
    this.denoiseStep = contractFunction(bundle, DENOISE_STEP, STEP_INPUTS, LATENT);
    this.decode = contractFunction(bundle, DECODE, Set.of(LATENT), IMAGE);
    variant(DENOISE_STEP_LORA, true, false);
    variant(DENOISE_STEP_CONTROL, false, true);
    variant(DENOISE_STEP_LORA_CONTROL, true, true);
    if (!manifest.adapters().isEmpty() && !variants.containsKey(List.of(true, false))) {
      throw new IncompatibleModelException("the manifest declares adapters but the model has no '"
          + DENOISE_STEP_LORA + "' signature");
    }
    if (!manifest.conditioning().isEmpty() && !variants.containsKey(List.of(false, true))) {
      throw new IncompatibleModelException("the manifest declares conditioning but the model has"
          + " no '" + DENOISE_STEP_CONTROL + "' signature");
    }
  }

  public Path directory() {
    return directory;
  }

  public ModelManifest manifest() {
    return manifest;
  }

  /** The session's graph and runtime, for device checks. */
  SavedModelBundle bundle() {
    return bundle;
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
    return denoiseStep(latent, cond, uncond, sigma, sigmaNext, guidance, Adaptation.NONE);
  }

  /**
   * One guided Euler step with an adapter and/or conditioning: through the matching
   * {@code denoise_step_*} signature, or the base one when the adaptation is empty.
   *
   * @throws IllegalArgumentException if the model has no signature for this adaptation
   */
  public StepOutput denoiseStep(NhwcArray latent, float[][] cond, float[][] uncond, float sigma,
      float sigmaNext, float guidance, Adaptation adaptation) {
    SessionFunction function = adaptation.hasAdapter() || adaptation.hasControl()
        ? variants.get(List.of(adaptation.hasAdapter(), adaptation.hasControl()))
        : denoiseStep;
    if (function == null) {
      throw new IllegalArgumentException("model " + manifest.name() + " takes no "
          + (adaptation.hasAdapter() ? "adapter" : "conditioning image"));
    }
    List<Tensor> owned = new ArrayList<>();
    try {
      Map<String, Tensor> inputs = new HashMap<>();
      inputs.put(LATENT, own(owned, tensor(latent)));
      inputs.put(COND, own(owned, tensor(cond)));
      inputs.put(UNCOND, own(owned, tensor(uncond)));
      inputs.put(SIGMA, own(owned, TFloat32.scalarOf(sigma)));
      inputs.put(SIGMA_NEXT, own(owned, TFloat32.scalarOf(sigmaNext)));
      inputs.put(GUIDANCE, own(owned, TFloat32.scalarOf(guidance)));
      if (adaptation.hasAdapter()) {
        LoraAdapter adapter = adaptation.adapter();
        for (String key : List.of(LORA_WAVE_A, LORA_WAVE_B, LORA_CONV_A, LORA_CONV_B)) {
          LoraAdapter.Tensor factor = adapter.tensors().get(key);
          inputs.put(key, own(owned, TFloat32.tensorOf(Shape.of(factor.shape()),
              DataBuffers.of(factor.values(), true, false))));
        }
        float scale = (float) (adaptation.adapterScale() * adapter.unitScale());
        inputs.put(ADAPTER_SCALE, own(owned, TFloat32.scalarOf(scale)));
      }
      if (adaptation.hasControl()) {
        inputs.put(CONTROL, own(owned, tensor(adaptation.control())));
        inputs.put(CONTROL_SCALE, own(owned, TFloat32.scalarOf(adaptation.controlScale())));
      }
      long start = System.nanoTime();
      try (Result result = function.call(inputs)) {
        long nanos = System.nanoTime() - start;
        return new StepOutput(nhwc(output(result, DENOISE_STEP, LATENT)), nanos);
      }
    } finally {
      owned.forEach(Tensor::close);
    }
  }

  /** Latent to RGB image in [0, 1]. */
  public NhwcArray decode(NhwcArray latent) {
    try (TFloat32 latentIn = tensor(latent);
        Result result = decode.call(Map.of(LATENT, latentIn))) {
      return nhwc(output(result, DECODE, IMAGE));
    }
  }

  /**
   * The adapter a request names ({@code name} or {@code name@version}), read from its files on
   * first use after checking them against the manifest, then kept in memory.
   *
   * @throws IllegalArgumentException if the manifest declares no such adapter
   * @throws ModelCorruptedException if an adapter file is missing or damaged
   */
  public LoraAdapter adapter(String reference) {
    ModelManifest.AdapterEntry entry = manifest.adapter(reference).orElseThrow(
        () -> new IllegalArgumentException("model " + manifest.name() + " " + manifest.version()
            + " has no adapter '" + reference + "' (it has " + manifest.adapters().stream()
            .map(ModelManifest.AdapterEntry::reference).toList() + ")"));
    return adapters.computeIfAbsent(entry.reference(), ref -> readAdapter(entry));
  }

  /** The adapters in memory, as {@code name@version}. */
  public Set<String> loadedAdapters() {
    return Set.copyOf(adapters.keySet());
  }

  /** Drops the adapters not in {@code keep} (as {@code name@version}); returns what it dropped. */
  public Set<String> unloadAdaptersExcept(Set<String> keep) {
    Set<String> dropped = new java.util.TreeSet<>(adapters.keySet());
    dropped.removeAll(keep);
    dropped.forEach(adapters::remove);
    return dropped;
  }

  @Override
  public void close() {
    adapters.clear();
    bundle.close();
  }

  private LoraAdapter readAdapter(ModelManifest.AdapterEntry entry) {
    for (ManifestFile file : entry.files()) {
      ModelStore.verifyFile(directory.toAbsolutePath().normalize(), file);
    }
    try {
      LoraAdapter adapter = LoraAdapter.read(
          directory.resolve(LoraAdapter.directory(entry.name(), entry.version())));
      if (adapter.rank() != entry.rank()) {
        throw new ModelCorruptedException(LoraAdapter.directory(entry.name(), entry.version()),
            "has rank " + adapter.rank() + ", the manifest says " + entry.rank());
      }
      return adapter;
    } catch (java.io.IOException e) {
      throw new ModelCorruptedException(LoraAdapter.directory(entry.name(), entry.version()),
          "is unreadable: " + e.getMessage());
    }
  }

  private void variant(String name, boolean lora, boolean control) {
    if (bundle.signatures().stream().noneMatch(s -> s.key().equals(name))) {
      return;
    }
    Set<String> inputs = new java.util.HashSet<>(STEP_INPUTS);
    if (lora) {
      inputs.addAll(LORA_INPUTS);
    }
    if (control) {
      inputs.addAll(CONTROL_INPUTS);
    }
    variants.put(List.of(lora, control), contractFunction(bundle, name, inputs, LATENT));
  }

  private static Tensor own(List<Tensor> owned, Tensor t) {
    owned.add(t);
    return t;
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
