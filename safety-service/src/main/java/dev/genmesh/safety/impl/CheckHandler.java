package dev.genmesh.safety.impl;

import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.protocol.safety.SafetyVerdict;
import io.vertx.core.Handler;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/check} of the reference service (region-node/SAFETY.md): validates the body
 * (a 400 with {@code {code, message, field}} for a malformed one), decodes the images and runs
 * the prompt rules and the image checks on a worker pool, and answers {@code {request_id, verdict, reasons}}.
 */
public final class CheckHandler implements Handler<RoutingContext> {
  private static final Logger LOG = LoggerFactory.getLogger(CheckHandler.class);
  public static final int MAX_IMAGES = 16;
  static final int MAX_SIDE = 16_384;

  private final PromptRules rules;
  private final WorkerExecutor executor;
  private final Consumer<SafetyVerdict> answered;

  /** @param answered told of every verdict given (for metrics) */
  public CheckHandler(PromptRules rules, WorkerExecutor executor, Consumer<SafetyVerdict> answered) {
    this.rules = rules;
    this.executor = executor;
    this.answered = answered;
  }

  @Override
  public void handle(RoutingContext ctx) {
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      body = null;
    }
    if (body == null) {
      JsonReplies.error(ctx, ApiError.of(ErrorCode.INVALID_JSON, "body must be a JSON object"));
      return;
    }
    ApiError invalid = invalid(body);
    if (invalid != null) {
      JsonReplies.error(ctx, invalid);
      return;
    }
    JsonArray images = body.getJsonArray("images", new JsonArray());
    String requestId = body.getString("request_id");
    String prompt = body.getString("prompt");
    int width = body.getInteger("width");
    int height = body.getInteger("height");
    // Decoding the images (base64, up to MBs each) is pool work too, not event-loop work.
    executor.executeBlocking(() -> check(prompt, images, width, height), false).onComplete(ar -> {
      if (ar.failed()) {
        LOG.error("check of request {} failed", requestId, ar.cause());
        JsonReplies.error(ctx, ApiError.of(ErrorCode.INTERNAL, "the check failed: " + ar.cause().getMessage()));
        return;
      }
      if (ar.result().notBase64() != null) {
        JsonReplies.error(ctx, ar.result().notBase64());
        return;
      }
      SafetyVerdict verdict = ar.result().verdict();
      answered.accept(verdict);
      if (verdict.outcome() == SafetyVerdict.Outcome.BLOCK) {
        LOG.info("request {} blocked: {}", requestId, verdict.reasons());
      }
      JsonReplies.json(ctx, 200, verdict.toJson().put("request_id", requestId));
    });
  }

  /** A verdict, or the error of an image that is not base64. */
  private record Checked(SafetyVerdict verdict, ApiError notBase64) {}

  /** On the pool: decodes the images, then judges the prompt and the images. */
  private Checked check(String prompt, JsonArray images, int width, int height) {
    List<byte[]> pngs = new ArrayList<>();
    Base64.Decoder base64 = Base64.getDecoder();
    for (int i = 0; i < images.size(); i++) {
      try {
        pngs.add(base64.decode(images.getString(i)));
      } catch (IllegalArgumentException e) {
        return new Checked(null, ApiError.onField(ErrorCode.INVALID_FIELD, "images", "images[" + i + "] is not base64"));
      }
    }
    return new Checked(verdict(prompt, pngs, width, height), null);
  }

  private SafetyVerdict verdict(String prompt, List<byte[]> pngs, int width, int height) {
    List<String> reasons = new ArrayList<>(rules.violations(prompt));
    for (int i = 0; i < pngs.size(); i++) {
      reasons.addAll(ImageChecks.problems(i, pngs.get(i), width, height));
    }
    return reasons.isEmpty() ? SafetyVerdict.allow(List.of()) : SafetyVerdict.block(reasons);
  }

  private static ApiError invalid(JsonObject body) {
    if (!(body.getValue("prompt") instanceof String)) {
      return ApiError.onField(body.getValue("prompt") == null ? ErrorCode.MISSING_FIELD : ErrorCode.INVALID_FIELD,
          "prompt", "prompt must be a string");
    }
    for (String field : List.of("request_id", "negative_prompt")) {
      Object value = body.getValue(field);
      if (value != null && !(value instanceof String)) {
        return ApiError.onField(ErrorCode.INVALID_FIELD, field, field + " must be a string");
      }
    }
    for (String field : List.of("width", "height")) {
      Object value = body.getValue(field);
      if (value == null) {
        return ApiError.onField(ErrorCode.MISSING_FIELD, field, field + " is required");
      }
      if (!(value instanceof Integer side) || side < 1 || side > MAX_SIDE) {
        return ApiError.onField(ErrorCode.INVALID_FIELD, field, field + " must be a whole number from 1 to " + MAX_SIDE);
      }
    }
    Object images = body.getValue("images");
    if (images != null && !(images instanceof JsonArray)) {
      return ApiError.onField(ErrorCode.INVALID_FIELD, "images", "images must be an array of base64 PNGs");
    }
    JsonArray list = (JsonArray) images;
    if (list != null && list.size() > MAX_IMAGES) {
      return ApiError.onField(ErrorCode.INVALID_FIELD, "images", "at most " + MAX_IMAGES + " images per check");
    }
    if (list != null && !list.stream().allMatch(String.class::isInstance)) {
      return ApiError.onField(ErrorCode.INVALID_FIELD, "images", "images must be an array of base64 PNGs");
    }
    return null;
  }
}
