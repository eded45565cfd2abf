package dev.genmesh.inference.pipeline;

/**
 * One generation request as the pipeline sees it.
 *
 * @param adapter a LoRA adapter of the model, {@code name} or {@code name@version}; null: none
 * @param adapterScale strength of the adapter; 0 gives the same image as no adapter
 * @param controlImage conditioning PNG of width x height pixels (read as grayscale); null: none
 * @param controlScale strength of the conditioning; 0 gives the same image as none
 * @param previewEvery a preview PNG with every k-th step; 0: none
 */
public record GenerationInput(
    String prompt,
    String negativePrompt,
    int width,
    int height,
    int steps,
    long seed,
    double guidance,
    int batchSize,
    String adapter,
    double adapterScale,
    byte[] controlImage,
    double controlScale,
    int previewEvery) {

  public GenerationInput {
    prompt = prompt == null ? "" : prompt;
    negativePrompt = negativePrompt == null ? "" : negativePrompt;
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be at least 1, was " + batchSize);
    }
    if (!Double.isFinite(guidance)) {
      throw new IllegalArgumentException("guidance must be finite, was " + guidance);
    }
    if (!Double.isFinite(adapterScale) || !Double.isFinite(controlScale)) {
      throw new IllegalArgumentException("adapter and control scales must be finite");
    }
    if (previewEvery < 0) {
      throw new IllegalArgumentException("previewEvery must be 0 or more, was " + previewEvery);
    }
  }

  /** Plain text to image: no adapter, no conditioning, no previews. */
  public GenerationInput(String prompt, String negativePrompt, int width, int height, int steps,
      long seed, double guidance, int batchSize) {
    this(prompt, negativePrompt, width, height, steps, seed, guidance, batchSize, null, 1.0, null,
        1.0, 0);
  }

  public GenerationInput withAdapter(String reference, double scale) {
    return new GenerationInput(prompt, negativePrompt, width, height, steps, seed, guidance,
        batchSize, reference, scale, controlImage, controlScale, previewEvery);
  }

  public GenerationInput withControl(byte[] png, double scale) {
    return new GenerationInput(prompt, negativePrompt, width, height, steps, seed, guidance,
        batchSize, adapter, adapterScale, png, scale, previewEvery);
  }

  public GenerationInput withPreviewEvery(int k) {
    return new GenerationInput(prompt, negativePrompt, width, height, steps, seed, guidance,
        batchSize, adapter, adapterScale, controlImage, controlScale, k);
  }

  public GenerationInput withSeed(long newSeed) {
    return new GenerationInput(prompt, negativePrompt, width, height, steps, newSeed, guidance,
        batchSize, adapter, adapterScale, controlImage, controlScale, previewEvery);
  }

  public GenerationInput withPrompt(String newPrompt) {
    return new GenerationInput(newPrompt, negativePrompt, width, height, steps, seed, guidance,
        batchSize, adapter, adapterScale, controlImage, controlScale, previewEvery);
  }

  /**
   * What must be equal for two inputs to share one TensorFlow batch: the scalars and shapes the
   * step signature takes once per call.
   */
  public record BatchKey(int width, int height, int steps, double guidance, String adapter,
      double adapterScale, boolean control, double controlScale) {}

  public BatchKey batchKey() {
    return new BatchKey(width, height, steps, guidance, adapter, adapter == null ? 0 : adapterScale,
        controlImage != null, controlImage == null ? 0 : controlScale);
  }
}
