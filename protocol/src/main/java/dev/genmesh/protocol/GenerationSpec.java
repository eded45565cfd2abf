package dev.genmesh.protocol;

import io.vertx.core.json.JsonObject;

/**
 * What the user asked for, after validation and defaults. Field names on the wire are the
 * public API's snake_case names.
 */
public record GenerationSpec(
    String prompt,
    String negativePrompt,
    String model,
    Tier tier,
    int width,
    int height,
    int steps,
    long seed,
    double guidance,
    int batchSize) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("prompt", prompt)
        .put("negative_prompt", negativePrompt)
        .put("model", model)
        .put("tier", tier.wireName())
        .put("width", width)
        .put("height", height)
        .put("steps", steps)
        .put("seed", seed)
        .put("guidance", guidance)
        .put("batch_size", batchSize);
  }

  /** Reads a spec that was validated before it was written (region log, event bus). */
  public static GenerationSpec fromJson(JsonObject json) {
    return new GenerationSpec(
        json.getString("prompt"),
        json.getString("negative_prompt", ""),
        json.getString("model"),
        Tier.parse(json.getString("tier")).orElse(Tier.DEFAULT),
        json.getInteger("width"),
        json.getInteger("height"),
        json.getInteger("steps"),
        json.getLong("seed"),
        json.getDouble("guidance"),
        json.getInteger("batch_size", 1));
  }
}
