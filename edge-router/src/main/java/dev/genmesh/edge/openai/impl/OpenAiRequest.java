package dev.genmesh.edge.openai.impl;

import dev.genmesh.config.OpenAiConfig;
import io.vertx.core.json.JsonObject;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An OpenAI {@code images.generate} body, read into genmesh's submit body. Only the shape is
 * checked here (types, known parameters, {@code size} as WxH, the model mapping); the edge's own
 * submit validation then checks the values (sizes the model supports, {@code n} within the batch
 * limit) and its errors are told back against OpenAI's parameter names ({@link #paramOf}).
 */
record OpenAiRequest(JsonObject submit, boolean base64) {
  static final int MAX_N = 10;
  private static final Pattern SIZE = Pattern.compile("(\\d{1,5})x(\\d{1,5})");
  /** Parameters OpenAI clients send that genmesh takes and ignores. */
  private static final Set<String> IGNORED = Set.of("quality", "style", "user", "background", "moderation",
      "output_compression", "output_format");
  private static final Set<String> KNOWN = Set.of("prompt", "model", "n", "size", "response_format");

  /** A parameter the caller got wrong: OpenAI's {@code invalid_request_error} with {@code param}. */
  static final class Invalid extends RuntimeException {
    final String param;

    Invalid(String param, String message) {
      super(message, null, false, false);
      this.param = param;
    }
  }

  /** @throws Invalid for a body OpenAI would refuse too, or a model genmesh does not map */
  static OpenAiRequest read(JsonObject body, OpenAiConfig config, Set<String> ourModels) {
    for (String field : body.fieldNames()) {
      if (!KNOWN.contains(field) && !IGNORED.contains(field)) {
        throw new Invalid(field, "Unrecognized request argument supplied: " + field);
      }
    }
    Object prompt = body.getValue("prompt");
    if (!(prompt instanceof String text) || text.isBlank()) {
      throw new Invalid("prompt", prompt == null ? "Missing required parameter: 'prompt'." : "'prompt' must be a non-empty string.");
    }
    JsonObject submit = new JsonObject().put("prompt", text).put("model", model(body.getValue("model"), config, ourModels));
    Object n = body.getValue("n");
    if (n != null) {
      if (!(n instanceof Number count) || count.doubleValue() != Math.rint(count.doubleValue())
          || count.longValue() < 1 || count.longValue() > MAX_N) {
        throw new Invalid("n", "'n' must be a whole number from 1 to " + MAX_N + ".");
      }
      submit.put("batch_size", count.intValue());
    }
    Object size = body.getValue("size");
    if (size != null && !"auto".equals(size)) {
      Matcher wh = size instanceof String s ? SIZE.matcher(s) : null;
      if (wh == null || !wh.matches()) {
        throw new Invalid("size", "'size' must be WIDTHxHEIGHT, e.g. '512x512'.");
      }
      submit.put("width", Integer.parseInt(wh.group(1))).put("height", Integer.parseInt(wh.group(2)));
    }
    Object format = body.getValue("response_format");
    if (format != null && !"url".equals(format) && !"b64_json".equals(format)) {
      throw new Invalid("response_format", "'response_format' must be 'url' or 'b64_json'.");
    }
    return new OpenAiRequest(submit, "b64_json".equals(format));
  }

  private static String model(Object asked, OpenAiConfig config, Set<String> ourModels) {
    if (asked == null) {
      return ourModels.iterator().next();
    }
    if (!(asked instanceof String name)) {
      throw new Invalid("model", "'model' must be a string.");
    }
    String mapped = config.models().get(name);
    if (mapped != null) {
      return mapped;
    }
    if (ourModels.contains(name)) {
      return name;
    }
    throw new Invalid("model", "The model '" + name + "' does not exist here (known: "
        + String.join(", ", new java.util.TreeSet<>(config.models().keySet())) + ", or "
        + String.join(", ", ourModels) + ").");
  }

  /** The OpenAI parameter a genmesh submit error's {@code field} stands for. */
  static String paramOf(String field) {
    if (field == null) {
      return null;
    }
    return switch (field) {
      case "width", "height" -> "size";
      case "batch_size" -> "n";
      case "tier" -> "X-Genmesh-Tier";
      default -> field;
    };
  }
}
