package dev.genmesh.protocol;

import io.vertx.core.json.JsonObject;

/**
 * What the user asked for, after validation and defaults. Field names on the wire are the
 * public API's snake_case names.
 *
 * @param adapter a LoRA adapter the model declares, {@code name} or {@code name@version}; null: none
 * @param adapterScale how strongly the adapter applies (0 = as if absent); ignored without adapter
 * @param controlImage a conditioning image (ControlNet-style), base64 PNG of width × height
 *     pixels, read as grayscale; null: none
 * @param controlScale how strongly the conditioning applies; ignored without a control image
 * @param previewEvery a small preview PNG with every k-th step report; 0: no previews
 * @param allowFallback the region may run the request on the model's configured fallback model
 *     while the model's circuit breaker is open (the user is told in the event stream)
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
    int batchSize,
    String adapter,
    double adapterScale,
    String controlImage,
    double controlScale,
    int previewEvery,
    boolean allowFallback) {

  public static final double DEFAULT_ADAPTER_SCALE = 1.0;
  public static final double DEFAULT_CONTROL_SCALE = 1.0;
  private static final long NEGATIVE_ZERO = Double.doubleToRawLongBits(-0.0);

  /** A plain text-to-image spec: no adapter, no conditioning, no previews. */
  public GenerationSpec(String prompt, String negativePrompt, String model, Tier tier, int width, int height,
      int steps, long seed, double guidance, int batchSize) {
    this(prompt, negativePrompt, model, tier, width, height, steps, seed, guidance, batchSize,
        null, DEFAULT_ADAPTER_SCALE, null, DEFAULT_CONTROL_SCALE, 0, false);
  }

  /** Without fallback. */
  public GenerationSpec(String prompt, String negativePrompt, String model, Tier tier, int width, int height,
      int steps, long seed, double guidance, int batchSize, String adapter, double adapterScale, String controlImage,
      double controlScale, int previewEvery) {
    this(prompt, negativePrompt, model, tier, width, height, steps, seed, guidance, batchSize, adapter, adapterScale,
        controlImage, controlScale, previewEvery, false);
  }

  /** The same request on another model (a circuit-breaker fallback). */
  public GenerationSpec withModel(String otherModel) {
    return new GenerationSpec(prompt, negativePrompt, otherModel, tier, width, height, steps, seed, guidance, batchSize,
        adapter, adapterScale, controlImage, controlScale, previewEvery, allowFallback);
  }

  public boolean hasAdapter() {
    return adapter != null;
  }

  public boolean hasControlImage() {
    return controlImage != null;
  }

  /** The optional fields are written only when set, so a plain spec reads as before. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject()
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
    if (adapter != null) {
      json.put("adapter", adapter).put("adapter_scale", adapterScale);
    }
    if (controlImage != null) {
      json.put("control_image", controlImage).put("control_scale", controlScale);
    }
    if (previewEvery > 0) {
      json.put("preview_every", previewEvery);
    }
    if (allowFallback) {
      json.put("allow_fallback", true);
    }
    return json;
  }

  /**
   * {@code Double.toString(value)}, without its cost for the usual spec numbers (whole ones and
   * those of one decimal, such as 7.5): batch keys are built per request and compared as text.
   */
  static String decimal(double value) {
    double tenths = Math.rint(value * 10);
    if (value >= 0 && tenths < 1e6 && tenths / 10 == value && Double.doubleToRawLongBits(value) != NEGATIVE_ZERO) {
      long whole = (long) tenths;
      return (whole / 10) + "." + (whole % 10);
    }
    return Double.toString(value);
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
        json.getInteger("batch_size", 1),
        json.getString("adapter"),
        json.getDouble("adapter_scale", DEFAULT_ADAPTER_SCALE),
        json.getString("control_image"),
        json.getDouble("control_scale", DEFAULT_CONTROL_SCALE),
        json.getInteger("preview_every", 0),
        json.getBoolean("allow_fallback", false));
  }
}
