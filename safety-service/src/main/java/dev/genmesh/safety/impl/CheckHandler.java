package dev.genmesh.safety.impl;

import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.protocol.safety.SafetyCheck;
import dev.genmesh.protocol.safety.SafetyVerdict;
import io.vertx.core.Handler;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/check} of the reference service (region-node/SAFETY.md): validates the body
 * (a 400 with {@code {code, message, field}} for a malformed one), reads the images from the
 * object store by their presigned URLs ({@link ImageFetch}; 503 when it cannot), runs the prompt
 * rules and the image checks on a worker pool, and answers {@code {request_id, verdict, reasons}}.
 */
public final class CheckHandler implements Handler<RoutingContext> {
  private static final Logger LOG = LoggerFactory.getLogger(CheckHandler.class);
  public static final int MAX_IMAGES = 16;
  static final int MAX_SIDE = 16_384;

  private final PromptRules rules;
  private final ImageFetch fetch;
  private final WorkerExecutor executor;
  private final Consumer<SafetyVerdict> answered;

  /** @param answered told of every verdict given (for metrics) */
  public CheckHandler(PromptRules rules, ImageFetch fetch, WorkerExecutor executor, Consumer<SafetyVerdict> answered) {
    this.rules = rules;
    this.fetch = fetch;
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
    List<SafetyCheck.Image> images = SafetyCheck.images(body.getJsonArray("images"));
    String requestId = body.getString("request_id");
    String prompt = body.getString("prompt");
    int width = body.getInteger("width");
    int height = body.getInteger("height");
    fetch.all(images)
        // Decoding and judging the pixels is pool work, not event-loop work.
        .compose(fetched -> executor.executeBlocking(() -> verdict(prompt, fetched, width, height), false))
        .onComplete(ar -> {
          if (ar.failed()) {
            LOG.warn("check of request {}: images not read: {}", requestId, ar.cause().getMessage());
            JsonReplies.error(ctx, ApiError.of(ErrorCode.STORAGE_UNAVAILABLE,
                "the images could not be read: " + ar.cause().getMessage()));
            return;
          }
          SafetyVerdict verdict = ar.result();
          answered.accept(verdict);
          if (verdict.outcome() == SafetyVerdict.Outcome.BLOCK) {
            LOG.info("request {} blocked: {}", requestId, verdict.reasons());
          }
          JsonReplies.json(ctx, 200, verdict.toJson().put("request_id", requestId));
        });
  }

  private SafetyVerdict verdict(String prompt, List<ImageFetch.Fetched> images, int width, int height) {
    List<String> reasons = new ArrayList<>(rules.violations(prompt));
    for (int i = 0; i < images.size(); i++) {
      ImageFetch.Fetched image = images.get(i);
      if (image.problem() != null) {
        reasons.add(image.problem());
      } else {
        reasons.addAll(ImageChecks.problems(i, image.bytes(), width, height));
      }
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
      return ApiError.onField(ErrorCode.INVALID_FIELD, "images", "images must be an array of {key, url, size, sha256}");
    }
    JsonArray list = (JsonArray) images;
    if (list != null && list.size() > MAX_IMAGES) {
      return ApiError.onField(ErrorCode.INVALID_FIELD, "images", "at most " + MAX_IMAGES + " images per check");
    }
    try {
      SafetyCheck.images(list);
    } catch (IllegalArgumentException e) {
      return ApiError.onField(ErrorCode.INVALID_FIELD, "images", e.getMessage());
    }
    return null;
  }
}
