package dev.genmesh.inference.pipeline;

import static dev.genmesh.inference.model.ModelContract.LATENT_CHANNELS;
import static dev.genmesh.inference.model.ModelContract.LATENT_DOWNSCALE;

import dev.genmesh.inference.model.ModelManifest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Text to PNGs with a loaded model: seeded noise, prompt and negative prompt encoded once,
 * {@code steps} guided Euler steps on a Karras schedule, decode, PNG. Deterministic: the same
 * input on the same model and thread settings gives the same bytes.
 */
public final class DiffusionPipeline {

  private final LoadedModel model;
  private final Tokenizer tokenizer;
  private final NoiseSchedule schedule;

  public DiffusionPipeline(LoadedModel model) {
    this(model, new Tokenizer(), NoiseSchedule.DEFAULT);
  }

  public DiffusionPipeline(LoadedModel model, Tokenizer tokenizer, NoiseSchedule schedule) {
    this.model = model;
    this.tokenizer = tokenizer;
    this.schedule = schedule;
  }

  /** {@code new DiffusionPipeline(model).generate(in, listener, cancelled)}. */
  public static List<byte[]> generate(LoadedModel model, GenerationInput in,
      StepListener listener, BooleanSupplier cancelled) {
    return new DiffusionPipeline(model).generate(in, listener, cancelled);
  }

  /**
   * Runs one generation on the calling thread (a worker thread: this blocks for the whole run).
   *
   * @param cancelled polled before every step and before decoding
   * @return one PNG per batch item, in batch order
   * @throws IllegalArgumentException if the size or step count is outside the model's manifest
   * @throws GenerationCancelledException if {@code cancelled} turned true
   */
  public List<byte[]> generate(GenerationInput in, StepListener listener,
      BooleanSupplier cancelled) {
    checkSupported(in);
    int batch = in.batchSize();
    double[] sigmas = schedule.sigmas(in.steps());

    NhwcArray latent = LatentNoise.gaussian(in.seed(), batch, in.height() / LATENT_DOWNSCALE,
        in.width() / LATENT_DOWNSCALE, LATENT_CHANNELS, sigmas[0]);
    float[][] embeddings = model.encodeText(
        new int[][] {tokenizer.encode(in.prompt()), tokenizer.encode(in.negativePrompt())});
    float[][] cond = repeat(embeddings[0], batch);
    float[][] uncond = repeat(embeddings[1], batch);
    float guidance = (float) in.guidance();

    for (int step = 0; step < in.steps(); step++) {
      if (cancelled.getAsBoolean()) {
        throw new GenerationCancelledException(step, in.steps());
      }
      long start = System.nanoTime();
      LoadedModel.StepOutput out = model.denoiseStep(latent, cond, uncond, (float) sigmas[step],
          (float) sigmas[step + 1], guidance);
      latent = out.latent();
      listener.onStep(step + 1, in.steps(), out.nanosInTensorFlow(), System.nanoTime() - start);
    }
    if (cancelled.getAsBoolean()) {
      throw new GenerationCancelledException(in.steps(), in.steps());
    }

    NhwcArray image = model.decode(latent);
    List<byte[]> pngs = new ArrayList<>(batch);
    for (int i = 0; i < batch; i++) {
      pngs.add(PngEncoder.encode(image, i));
    }
    return pngs;
  }

  private void checkSupported(GenerationInput in) {
    ModelManifest m = model.manifest();
    if (!m.width().contains(in.width()) || !m.height().contains(in.height())) {
      throw new IllegalArgumentException("size " + in.width() + "x" + in.height()
          + " is outside what model " + m.name() + " supports: width " + m.width()
          + ", height " + m.height());
    }
    if (!m.steps().contains(in.steps())) {
      throw new IllegalArgumentException(
          "steps " + in.steps() + " outside " + m.steps() + " for model " + m.name());
    }
  }

  private static float[][] repeat(float[] row, int times) {
    float[][] rows = new float[times][];
    Arrays.fill(rows, row);
    return rows;
  }
}
