package dev.genmesh.edge.submit.impl;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ModelConfig;
import dev.genmesh.edge.impl.ModelCatalog;
import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.RequestHash;
import dev.genmesh.protocol.StorableText;
import dev.genmesh.protocol.Tier;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Turns a submit body into a {@link GenerationSpec} with every default applied, or into the
 * first error it finds. Only what every store can hold passes: text without NUL characters or
 * unpaired surrogates ({@link StorableText}), numbers within their ranges whatever their
 * spelling. Pure: no I/O, and the random seed source is injected.
 */
public final class RequestValidator {
  /** The fields a submit body may carry; anything else is most likely a typo. */
  public static final List<String> FIELDS = List.of(
      "prompt", "negative_prompt", "model", "tier", "width", "height", "steps", "seed", "guidance", "batch_size",
      "adapter", "adapter_scale", "control_image", "control_scale", "preview_every",
      "allow_fallback");
  /** Adapter and conditioning strengths: 0 is off, 1 as trained, up to 2 exaggerated. */
  static final double MAX_SCALE = 2.0;
  public static final String IDEMPOTENCY_HEADER = "Idempotency-Key";
  public static final int MAX_IDEMPOTENCY_KEY_CHARS = 200;
  /** Random seeds stay below 2^32: common for diffusion tools and exact in JavaScript. */
  public static final long RANDOM_SEED_BOUND = 1L << 32;
  /** The largest seed a client may give: 2^53 - 1, the largest whole number every JSON reader keeps exactly. */
  public static final long MAX_SEED = (1L << 53) - 1;
  /** How much of a client's value an error message quotes back. */
  private static final int ECHO_CHARS = 64;

  private final Map<String, ModelConfig> models;
  private final String defaultModel;
  private final int maxPromptChars;
  private final LongSupplier seeds;
  private final Function<String, ModelCatalog.Versions> versions;

  public RequestValidator(GenmeshConfig config) {
    this(config, () -> ThreadLocalRandom.current().nextLong(RANDOM_SEED_BOUND));
  }

  /** @param versions what the registries publish and run per model (null: unknown, only the configured version counts) */
  public RequestValidator(GenmeshConfig config, Function<String, ModelCatalog.Versions> versions) {
    this(config, () -> ThreadLocalRandom.current().nextLong(RANDOM_SEED_BOUND), versions);
  }

  public RequestValidator(GenmeshConfig config, LongSupplier seeds) {
    this(config, seeds, model -> null);
  }

  public RequestValidator(GenmeshConfig config, LongSupplier seeds, Function<String, ModelCatalog.Versions> versions) {
    this.versions = versions;
    this.models = config.models();
    this.defaultModel = models.isEmpty() ? null : models.keySet().iterator().next();
    this.maxPromptChars = config.edge().maxPromptChars();
    this.seeds = seeds;
  }

  public Validation validate(JsonObject body, String idempotencyKey) {
    return validate(body, idempotencyKey, null);
  }

  /**
   * @param user the caller: with an idempotency key, the request's hash covers who asked and the
   *     body as sent (not the spec, whose random seed differs on every retry)
   */
  public Validation validate(JsonObject body, String idempotencyKey, String user) {
    try {
      String key = idempotencyKey(idempotencyKey);
      GenerationSpec spec = spec(body);
      return Validation.accepted(spec, key, key == null ? null : RequestHash.of(user, body));
    } catch (Rejected rejected) {
      return Validation.rejected(rejected.error);
    }
  }

  private GenerationSpec spec(JsonObject body) {
    for (String name : new TreeSet<>(body.fieldNames())) {
      if (!FIELDS.contains(name)) {
        String quoted = Echo.of(name, ECHO_CHARS);
        throw new Rejected(ApiError.onField(ErrorCode.INVALID_FIELD, quoted,
            quoted + " is not a known field (known: " + String.join(", ", FIELDS) + ")"));
      }
    }
    String prompt = text(body, "prompt");
    if (prompt == null) {
      throw reject(ErrorCode.MISSING_FIELD, "prompt", "is required");
    }
    if (prompt.isBlank()) {
      throw reject(ErrorCode.MISSING_FIELD, "prompt", "must not be blank");
    }
    checkLength("prompt", prompt);
    String negative = text(body, "negative_prompt");
    negative = negative == null ? "" : negative;
    checkLength("negative_prompt", negative);

    String modelName = text(body, "model");
    modelName = modelName == null ? defaultModel : modelName;
    int at = modelName == null ? -1 : modelName.lastIndexOf('@');
    String version = at < 0 ? null : modelName.substring(at + 1);
    modelName = at < 0 ? modelName : modelName.substring(0, at);
    ModelConfig model = modelName == null ? null : models.get(modelName);
    if (model == null) {
      throw reject(ErrorCode.UNKNOWN_MODEL, "model", "'" + Echo.of(modelName, ECHO_CHARS) + "' is not a model here (known: "
          + models.keySet() + ")");
    }
    if (version != null) {
      checkVersion(model, version);
    }
    String tierName = text(body, "tier");
    Tier tier = tierName == null ? Tier.DEFAULT : Tier.parse(tierName).orElseThrow(
        () -> reject(ErrorCode.UNKNOWN_TIER, "tier", "'" + Echo.of(tierName, ECHO_CHARS) + "' is not a tier (known: turbo, fast, relax)"));

    int width = size(body, "width", model.defaultWidth(), model);
    int height = size(body, "height", model.defaultHeight(), model);
    int steps = (int) whole(body, "steps", model.defaultSteps(), model.minSteps(), model.maxSteps(), ErrorCode.OUT_OF_RANGE);
    Long seed = wholeOrNull(body, "seed", 0, MAX_SEED, ErrorCode.OUT_OF_RANGE);
    double guidance = decimal(body, "guidance", model.defaultGuidance(), model.minGuidance(), model.maxGuidance());
    int batch = (int) whole(body, "batch_size", 1, 1, model.maxBatch(), ErrorCode.OUT_OF_RANGE);
    String adapter = adapter(body, model);
    double adapterScale = scale(body, "adapter_scale", "adapter", adapter != null);
    String control = controlImage(body, model, width, height);
    double controlScale = scale(body, "control_scale", "control_image", control != null);
    int previewEvery = (int) whole(body, "preview_every", 0, 0, steps, ErrorCode.OUT_OF_RANGE);
    Object fallback = body.getValue("allow_fallback");
    if (fallback != null && !(fallback instanceof Boolean)) {
      throw reject(ErrorCode.INVALID_FIELD, "allow_fallback", "must be true or false");
    }
    return new GenerationSpec(
        prompt, negative, model.name(), tier, width, height, steps,
        seed == null ? seeds.getAsLong() : seed, guidance, batch, adapter, adapterScale, control, controlScale,
        previewEvery, Boolean.TRUE.equals(fallback));
  }

  /** The declared adapter the request names, as {@code name@version}, or null for none. */
  private static String adapter(JsonObject body, ModelConfig model) {
    String name = text(body, "adapter");
    if (name == null) {
      return null;
    }
    if (model.adapters().isEmpty()) {
      throw reject(ErrorCode.INVALID_FIELD, "adapter", "'" + Echo.of(name, ECHO_CHARS) + "' cannot be used: model "
          + model.name() + " takes no adapters");
    }
    return model.resolveAdapter(name).orElseThrow(() -> reject(ErrorCode.INVALID_FIELD, "adapter", "'"
        + Echo.of(name, ECHO_CHARS) + "' is not an adapter of model " + model.name() + " (it has " + model.adapters() + ")"));
  }

  /** A conditioning PNG of the image's size (base64), checked without decoding its pixels; null for none. */
  private static String controlImage(JsonObject body, ModelConfig model, int width, int height) {
    String image = text(body, "control_image");
    if (image == null) {
      return null;
    }
    if (model.conditioning().isEmpty()) {
      throw reject(ErrorCode.INVALID_FIELD, "control_image", "cannot be used: model " + model.name()
          + " takes no conditioning image");
    }
    String problem = ControlImageCheck.problem(image, width, height);
    if (problem != null) {
      throw reject(ErrorCode.INVALID_FIELD, "control_image", problem);
    }
    return image;
  }

  /** The strength of an option, 1.0 by default; given without its option it is a mistake. */
  private static double scale(JsonObject body, String field, String option, boolean optionGiven) {
    if (!optionGiven && body.getValue(field) != null) {
      throw reject(ErrorCode.INVALID_FIELD, field, "is only meaningful together with " + option);
    }
    return decimal(body, field, 1.0, 0.0, MAX_SCALE);
  }

  /**
   * {@code model@version}: the version must be published (else it is unknown) and be the one
   * workers run somewhere; pinning another published version is not served yet.
   */
  private void checkVersion(ModelConfig model, String version) {
    ModelCatalog.Versions known = versions.apply(model.name());
    Set<String> published = known == null ? Set.of(model.version()) : known.published();
    Set<String> served = known == null ? Set.of(model.version()) : known.current();
    if (!published.contains(version)) {
      throw reject(ErrorCode.UNKNOWN_MODEL, "model", "version '" + Echo.of(version, ECHO_CHARS) + "' of " + model.name()
          + " is not published (published: " + new TreeSet<>(published) + ")");
    }
    if (!served.contains(version)) {
      throw reject(ErrorCode.UNKNOWN_MODEL, "model", "version '" + Echo.of(version, ECHO_CHARS) + "' of " + model.name()
          + " is published but not served; workers run " + new TreeSet<>(served) + " (name no version to get it)");
    }
  }

  /** The header as sent, or null when absent or blank; at most 200 printable ASCII characters (0x20-0x7E). */
  private static String idempotencyKey(String key) {
    if (key == null || key.isBlank()) {
      return null;
    }
    if (key.length() > MAX_IDEMPOTENCY_KEY_CHARS) {
      throw reject(ErrorCode.INVALID_FIELD, IDEMPOTENCY_HEADER, "must be at most " + MAX_IDEMPOTENCY_KEY_CHARS + " characters");
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        throw reject(ErrorCode.INVALID_FIELD, IDEMPOTENCY_HEADER, String.format(
            "must be printable ASCII (0x20-0x7E); character %d is 0x%02X", i, (int) c));
      }
    }
    return key;
  }

  private void checkLength(String field, String value) {
    if (value.codePointCount(0, value.length()) > maxPromptChars) {
      throw reject(ErrorCode.PROMPT_TOO_LONG, field, "must be at most " + maxPromptChars + " characters");
    }
  }

  /** A string field that every store can hold, or null when absent. */
  private static String text(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value == null) {
      return null;
    }
    if (!(value instanceof String text)) {
      throw reject(ErrorCode.INVALID_FIELD, field, "must be a string");
    }
    String problem = StorableText.problem(text);
    if (problem != null) {
      throw reject(ErrorCode.INVALID_VALUE, field, problem);
    }
    return text;
  }

  private static int size(JsonObject body, String field, int fallback, ModelConfig model) {
    int value = (int) whole(body, field, fallback, model.minSize(), model.maxSize(), ErrorCode.UNSUPPORTED_SIZE);
    if (value % model.sizeMultiple() != 0) {
      throw reject(ErrorCode.UNSUPPORTED_SIZE, field, sizeRule(model));
    }
    return value;
  }

  private static String sizeRule(ModelConfig model) {
    return "must be between " + model.minSize() + " and " + model.maxSize() + " and a multiple of " + model.sizeMultiple()
        + " for model " + model.name();
  }

  private static long whole(JsonObject body, String field, long fallback, long min, long max, ErrorCode rangeCode) {
    Long value = wholeOrNull(body, field, min, max, rangeCode);
    return value == null ? fallback : value;
  }

  /**
   * A whole number within [min, max], or null when absent. Any spelling of a whole number counts
   * ({@code 512}, {@code 512.0}, {@code 5.12e2}); compared exactly, never expanded, so
   * {@code 1e999999999} costs nothing and is out of range.
   */
  private static Long wholeOrNull(JsonObject body, String field, long min, long max, ErrorCode rangeCode) {
    Object value = body.getValue(field);
    if (value == null) {
      return null;
    }
    BigDecimal number = exact(value);
    if (number == null || !isWhole(number)) {
      throw reject(ErrorCode.INVALID_FIELD, field, "must be a whole number");
    }
    if (number.compareTo(BigDecimal.valueOf(min)) < 0 || number.compareTo(BigDecimal.valueOf(max)) > 0) {
      throw reject(rangeCode, field, "must be between " + min + " and " + max);
    }
    return number.longValueExact();
  }

  private static boolean isWhole(BigDecimal number) {
    return number.signum() == 0 || number.scale() <= 0 || number.stripTrailingZeros().scale() <= 0;
  }

  /** The exact value of a JSON number; null for anything else (and for a non-finite double). */
  private static BigDecimal exact(Object value) {
    if (value instanceof BigDecimal decimal) {
      return decimal;
    }
    if (value instanceof BigInteger whole) {
      return new BigDecimal(whole);
    }
    if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
      return BigDecimal.valueOf(((Number) value).longValue());
    }
    if ((value instanceof Double || value instanceof Float) && Double.isFinite(((Number) value).doubleValue())) {
      return BigDecimal.valueOf(((Number) value).doubleValue());
    }
    return null;
  }

  private static double decimal(JsonObject body, String field, double fallback, double min, double max) {
    Object value = body.getValue(field);
    if (value == null) {
      return fallback;
    }
    BigDecimal number = exact(value);
    if (number == null) {
      throw reject(ErrorCode.INVALID_FIELD, field, "must be a number");
    }
    if (number.compareTo(BigDecimal.valueOf(min)) < 0 || number.compareTo(BigDecimal.valueOf(max)) > 0) {
      throw reject(ErrorCode.OUT_OF_RANGE, field, "must be between " + min + " and " + max);
    }
    return number.doubleValue();
  }

  private static Rejected reject(ErrorCode code, String field, String message) {
    return new Rejected(ApiError.onField(code, field, field + " " + message));
  }

  /** Unwinds validation at the first error; carries no stack trace. */
  private static final class Rejected extends RuntimeException {
    final ApiError error;

    Rejected(ApiError error) {
      super(error.message(), null, false, false);
      this.error = error;
    }
  }
}
