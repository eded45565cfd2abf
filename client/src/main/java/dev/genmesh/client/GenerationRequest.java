package dev.genmesh.client;

import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * One submit's body ({@code SubmitBody} in openapi.yaml). Null fields are left out: the edge's
 * defaults apply. Build with {@link #of(String)} and the {@code with*} methods.
 */
public record GenerationRequest(String prompt, String negativePrompt, String model, String tier, Integer width,
    Integer height, Integer steps, Long seed, Double guidance, Integer batchSize, Integer previewEvery) {

  public GenerationRequest {
    Objects.requireNonNull(prompt, "prompt");
  }

  public static GenerationRequest of(String prompt) {
    return new GenerationRequest(prompt, null, null, null, null, null, null, null, null, null, null);
  }

  public GenerationRequest withNegativePrompt(String text) {
    return new GenerationRequest(prompt, text, model, tier, width, height, steps, seed, guidance, batchSize, previewEvery);
  }

  public GenerationRequest withModel(String name) {
    return new GenerationRequest(prompt, negativePrompt, name, tier, width, height, steps, seed, guidance, batchSize,
        previewEvery);
  }

  /** {@code turbo}, {@code fast} or {@code relax}. */
  public GenerationRequest withTier(String name) {
    return new GenerationRequest(prompt, negativePrompt, model, name, width, height, steps, seed, guidance, batchSize,
        previewEvery);
  }

  public GenerationRequest withSize(int w, int h) {
    return new GenerationRequest(prompt, negativePrompt, model, tier, w, h, steps, seed, guidance, batchSize, previewEvery);
  }

  public GenerationRequest withSteps(int count) {
    return new GenerationRequest(prompt, negativePrompt, model, tier, width, height, count, seed, guidance, batchSize,
        previewEvery);
  }

  public GenerationRequest withSeed(long value) {
    return new GenerationRequest(prompt, negativePrompt, model, tier, width, height, steps, value, guidance, batchSize,
        previewEvery);
  }

  public GenerationRequest withGuidance(double value) {
    return new GenerationRequest(prompt, negativePrompt, model, tier, width, height, steps, seed, value, batchSize,
        previewEvery);
  }

  public GenerationRequest withBatchSize(int images) {
    return new GenerationRequest(prompt, negativePrompt, model, tier, width, height, steps, seed, guidance, images,
        previewEvery);
  }

  /** Every k-th step event carries a small PNG preview; 0 none. */
  public GenerationRequest withPreviewEvery(int k) {
    return new GenerationRequest(prompt, negativePrompt, model, tier, width, height, steps, seed, guidance, batchSize, k);
  }

  /** The JSON body, without the absent fields. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("prompt", prompt);
    putIf(json, "negative_prompt", negativePrompt);
    putIf(json, "model", model);
    putIf(json, "tier", tier);
    putIf(json, "width", width);
    putIf(json, "height", height);
    putIf(json, "steps", steps);
    putIf(json, "seed", seed);
    putIf(json, "guidance", guidance);
    putIf(json, "batch_size", batchSize);
    putIf(json, "preview_every", previewEvery);
    return json;
  }

  private static void putIf(JsonObject json, String name, Object value) {
    if (value != null) {
      json.put(name, value);
    }
  }
}
