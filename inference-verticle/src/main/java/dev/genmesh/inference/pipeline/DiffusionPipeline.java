package dev.genmesh.inference.pipeline;

import static dev.genmesh.inference.model.ModelContract.LATENT_CHANNELS;
import static dev.genmesh.inference.model.ModelContract.LATENT_DOWNSCALE;

import dev.genmesh.inference.model.LoraAdapter;
import dev.genmesh.inference.model.ModelManifest;
import dev.genmesh.inference.pipeline.impl.LatentNoise;
import dev.genmesh.inference.pipeline.impl.NhwcArray;
import dev.genmesh.inference.pipeline.impl.NoiseSchedule;
import dev.genmesh.inference.pipeline.impl.PngEncoder;
import dev.genmesh.inference.pipeline.impl.PreviewRenderer;
import dev.genmesh.inference.pipeline.impl.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Text to PNGs with a loaded model: seeded noise, prompt and negative prompt encoded once,
 * {@code steps} guided Euler steps on a Karras schedule, decode, PNG. Deterministic: the same
 * input on the same model and thread settings gives the same bytes, alone or in a batch.
 *
 * <p>Several compatible inputs (same {@link GenerationInput.BatchKey}) run as one batch: one
 * TensorFlow call per step for all their images, each with its own seed, prompts, conditioning
 * image, step reports, previews and cancellation. Every op of the bundled models treats batch
 * rows independently, so an image comes out bit for bit the same alone or in a batch.
 */
public final class DiffusionPipeline {

  private final LoadedModel model;
  private final Tokenizer tokenizer;
  private final NoiseSchedule schedule;
  private final FaultHook faultHook;

  public DiffusionPipeline(LoadedModel model) {
    this(model, new Tokenizer(), NoiseSchedule.DEFAULT, FaultHook.NONE);
  }

  public DiffusionPipeline(LoadedModel model, FaultHook faultHook) {
    this(model, new Tokenizer(), NoiseSchedule.DEFAULT, faultHook);
  }

  public DiffusionPipeline(LoadedModel model, Tokenizer tokenizer, NoiseSchedule schedule) {
    this(model, tokenizer, schedule, FaultHook.NONE);
  }

  public DiffusionPipeline(LoadedModel model, Tokenizer tokenizer, NoiseSchedule schedule,
      FaultHook faultHook) {
    this.model = model;
    this.tokenizer = tokenizer;
    this.schedule = schedule;
    this.faultHook = faultHook;
  }

  /** {@code new DiffusionPipeline(model).generate(in, listener, cancelled)}. */
  public static List<byte[]> generate(LoadedModel model, GenerationInput in,
      StepListener listener, BooleanSupplier cancelled) {
    return new DiffusionPipeline(model).generate(in, listener, cancelled);
  }

  /** One input of a batch, with its own step listener and cancel flag. */
  public record BatchItem(GenerationInput input, StepListener listener,
      BooleanSupplier cancelled) {}

  /**
   * What became of one batch item: its PNGs, the cancellation that stopped it, or why its input
   * was refused (a control image that does not decode, a size the model does not support).
   */
  public record Outcome(List<byte[]> pngs, GenerationCancelledException cancellation,
      IllegalArgumentException refusal) {
    public boolean cancelled() {
      return cancellation != null;
    }

    public boolean refused() {
      return refusal != null;
    }
  }

  /**
   * Runs one generation on the calling thread (a worker thread: this blocks for the whole run).
   *
   * @param cancelled polled before every step and before decoding
   * @return one PNG per batch item, in batch order
   * @throws IllegalArgumentException if the size, step count, adapter or conditioning is not
   *     what the model's manifest supports
   * @throws GenerationCancelledException if {@code cancelled} turned true
   */
  public List<byte[]> generate(GenerationInput in, StepListener listener,
      BooleanSupplier cancelled) {
    Outcome outcome = generateBatch(List.of(new BatchItem(in, listener, cancelled))).get(0);
    if (outcome.refused()) {
      throw outcome.refusal();
    }
    if (outcome.cancelled()) {
      throw outcome.cancellation();
    }
    return outcome.pngs();
  }

  /**
   * Runs compatible inputs as one batch. An input the model cannot take is refused on its own
   * ({@link Outcome#refusal}); a cancelled item leaves the batch before the next step; the others
   * go on. A TensorFlow error fails the whole batch (it is thrown).
   *
   * @return one outcome per item, in order
   * @throws IllegalArgumentException if the inputs are not compatible, or name an adapter the
   *     model does not have (they all name the same one)
   */
  public List<Outcome> generateBatch(List<BatchItem> items) {
    if (items.isEmpty()) {
      return List.of();
    }
    GenerationInput first = items.get(0).input();
    GenerationInput.BatchKey key = first.batchKey();
    for (BatchItem item : items) {
      if (!item.input().batchKey().equals(key)) {
        throw new IllegalArgumentException("inputs differ in size, steps, guidance, adapter or"
            + " conditioning and cannot share a batch: " + key + " vs " + item.input().batchKey());
      }
    }
    double[] sigmas = schedule.sigmas(first.steps());
    LoraAdapter adapter = first.adapter() == null ? null : model.adapter(first.adapter());

    Outcome[] outcomes = new Outcome[items.size()];
    List<Member> active = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      try {
        checkSupported(items.get(i).input());
        Member member = prepare(items.get(i), sigmas[0]);
        member.index = i;
        active.add(member);
      } catch (IllegalArgumentException e) {
        outcomes[i] = new Outcome(null, null, e);
      }
    }
    if (active.isEmpty()) {
      return Arrays.asList(outcomes);
    }
    Batch batch = Batch.of(active, adapter, first);
    int steps = first.steps();
    float guidance = (float) first.guidance();

    for (int step = 0; step < steps; step++) {
      batch = dropCancelled(batch, step, steps, outcomes, adapter, first);
      if (batch.members.isEmpty()) {
        return Arrays.asList(outcomes);
      }
      faultHook.beforeStep(model.manifest().name(), step + 1, batch.latent.batch());
      long start = System.nanoTime();
      LoadedModel.StepOutput out = model.denoiseStep(batch.latent, batch.cond, batch.uncond,
          (float) sigmas[step], (float) sigmas[step + 1], guidance, batch.adaptation);
      batch.latent = out.latent();
      long nanos = System.nanoTime() - start;
      for (Member m : batch.members) {
        byte[] preview = m.wantsPreview(step + 1)
            ? PreviewRenderer.render(model, batch.latent, m.row) : null;
        m.item.listener().onStep(step + 1, steps, out.nanosInTensorFlow(), nanos, preview);
      }
    }
    batch = dropCancelled(batch, steps, steps, outcomes, adapter, first);
    if (!batch.members.isEmpty()) {
      NhwcArray image = model.decode(batch.latent);
      for (Member m : batch.members) {
        List<byte[]> pngs = new ArrayList<>(m.rows);
        for (int r = 0; r < m.rows; r++) {
          pngs.add(PngEncoder.encode(image, m.row + r));
        }
        outcomes[m.index] = new Outcome(Collections.unmodifiableList(pngs), null, null);
      }
    }
    return Arrays.asList(outcomes);
  }

  /** Noise, embeddings and conditioning rows of one item, exactly as if it ran alone. */
  private Member prepare(BatchItem item, double sigmaMax) {
    GenerationInput in = item.input();
    int rows = in.batchSize();
    int h = in.height() / LATENT_DOWNSCALE;
    int w = in.width() / LATENT_DOWNSCALE;
    NhwcArray noise = LatentNoise.gaussian(in.seed(), rows, h, w, LATENT_CHANNELS, sigmaMax);
    float[][] embeddings = model.encodeText(
        new int[][] {tokenizer.encode(in.prompt()), tokenizer.encode(in.negativePrompt())});
    NhwcArray control = null;
    if (in.controlImage() != null) {
      NhwcArray grid = ControlImage.toLatentGrid(in.controlImage(), in.width(), in.height());
      control = NhwcArray.concat(Collections.nCopies(rows, grid));
    }
    return new Member(item, rows, noise, repeat(embeddings[0], rows),
        repeat(embeddings[1], rows), control);
  }

  private static Batch dropCancelled(Batch batch, int completed, int steps, Outcome[] outcomes,
      LoraAdapter adapter, GenerationInput first) {
    List<Member> staying = new ArrayList<>(batch.members.size());
    for (Member m : batch.members) {
      if (m.item.cancelled().getAsBoolean()) {
        outcomes[m.index] = new Outcome(null, new GenerationCancelledException(completed, steps), null);
      } else {
        staying.add(m);
      }
    }
    if (staying.size() == batch.members.size()) {
      return batch;
    }
    for (Member m : staying) {
      m.latent = batch.latent.items(m.row, m.rows); // carry the progress over
    }
    return staying.isEmpty() ? new Batch(staying) : Batch.of(staying, adapter, first);
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
    if (in.controlImage() != null && m.conditioning().isEmpty()) {
      throw new IllegalArgumentException("model " + m.name() + " takes no conditioning image");
    }
  }

  private static float[][] repeat(float[] row, int times) {
    float[][] rows = new float[times][];
    Arrays.fill(rows, row);
    return rows;
  }

  /** One input's rows in the batch. */
  private static final class Member {
    final BatchItem item;
    final int rows;
    final float[][] cond;
    final float[][] uncond;
    final NhwcArray control;
    NhwcArray latent;
    int index;
    int row;

    Member(BatchItem item, int rows, NhwcArray latent, float[][] cond, float[][] uncond,
        NhwcArray control) {
      this.item = item;
      this.rows = rows;
      this.latent = latent;
      this.cond = cond;
      this.uncond = uncond;
      this.control = control;
    }

    boolean wantsPreview(int step) {
      int every = item.input().previewEvery();
      return every > 0 && step % every == 0;
    }
  }

  /** The stacked rows of the members still running. */
  private static final class Batch {
    final List<Member> members;
    NhwcArray latent;
    float[][] cond;
    float[][] uncond;
    Adaptation adaptation;

    Batch(List<Member> members) {
      this.members = members;
    }

    static Batch of(List<Member> members, LoraAdapter adapter, GenerationInput first) {
      Batch b = new Batch(members);
      List<NhwcArray> latents = new ArrayList<>();
      List<NhwcArray> controls = new ArrayList<>();
      List<float[]> cond = new ArrayList<>();
      List<float[]> uncond = new ArrayList<>();
      int row = 0;
      for (Member m : members) {
        m.row = row;
        row += m.rows;
        latents.add(m.latent);
        cond.addAll(Arrays.asList(m.cond));
        uncond.addAll(Arrays.asList(m.uncond));
        if (m.control != null) {
          controls.add(m.control);
        }
      }
      b.latent = latents.size() == 1 ? latents.get(0) : NhwcArray.concat(latents);
      b.cond = cond.toArray(new float[0][]);
      b.uncond = uncond.toArray(new float[0][]);
      NhwcArray control = controls.isEmpty() ? null : NhwcArray.concat(controls);
      b.adaptation = new Adaptation(adapter, (float) first.adapterScale(), control,
          (float) first.controlScale());
      return b;
    }
  }
}
