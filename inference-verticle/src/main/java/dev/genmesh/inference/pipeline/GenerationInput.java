package dev.genmesh.inference.pipeline;

/** One generation request as the pipeline sees it. */
public record GenerationInput(
    String prompt,
    String negativePrompt,
    int width,
    int height,
    int steps,
    long seed,
    double guidance,
    int batchSize) {

  public GenerationInput {
    prompt = prompt == null ? "" : prompt;
    negativePrompt = negativePrompt == null ? "" : negativePrompt;
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be at least 1, was " + batchSize);
    }
    if (!Double.isFinite(guidance)) {
      throw new IllegalArgumentException("guidance must be finite, was " + guidance);
    }
  }
}
