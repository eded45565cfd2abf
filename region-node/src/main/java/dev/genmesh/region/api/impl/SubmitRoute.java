package dev.genmesh.region.api.impl;

import static dev.genmesh.region.api.impl.JsonReplies.error;
import static dev.genmesh.region.api.impl.JsonReplies.json;

import dev.genmesh.breakers.Overloaded;
import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.RequestHash;
import dev.genmesh.protocol.StorableText;
import dev.genmesh.region.api.RegionalApi;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.region.requests.impl.Submissions;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code POST /regional/v1/generations}: 202 with the request's view once it is committed to the
 * log. A known idempotency key answers the first request, unless it came with another body or
 * caller ({@code request_hash}, else the hash of this spec and user): then 422.
 */
public final class SubmitRoute {
  static final int MAX_IDEMPOTENCY_KEY = 256;
  static final int MAX_USER = 256;
  /** The lowest priority a submit may ask for: the edge puts heavy relax users this far back at most. */
  static final int MIN_PRIORITY = -1000;

  private final String region;
  private final Submissions submissions;
  private final LiveView views;
  private final ApiFailures failures;

  public SubmitRoute(String region, Submissions submissions, LiveView views, ApiFailures failures) {
    this.region = region;
    this.submissions = submissions;
    this.views = views;
    this.failures = failures;
  }

  public void handle(RoutingContext ctx) {
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      error(ctx, ApiError.of(ErrorCode.INVALID_JSON, "body is not a JSON object: " + e.getMessage()));
      return;
    }
    if (body == null) {
      error(ctx, ApiError.of(ErrorCode.INVALID_JSON, "body must be a JSON object"));
      return;
    }
    Object key = body.getValue("idempotency_key");
    if (key != null && !(key instanceof String text && !text.isBlank() && text.length() <= MAX_IDEMPOTENCY_KEY)) {
      error(ctx, ApiError.onField(ErrorCode.INVALID_FIELD, "idempotency_key",
          "idempotency_key must be a non-empty string of at most " + MAX_IDEMPOTENCY_KEY + " characters"));
      return;
    }
    Object user = body.getValue("user");
    if (user != null && !(user instanceof String text && !text.isBlank() && text.length() <= MAX_USER)) {
      error(ctx, ApiError.onField(ErrorCode.INVALID_FIELD, "user",
          "user must be a non-empty string of at most " + MAX_USER + " characters"));
      return;
    }
    Object priority = body.getValue("priority");
    if (priority != null && !(priority instanceof Integer p && p >= MIN_PRIORITY && p <= 0)) {
      error(ctx, ApiError.onField(ErrorCode.INVALID_FIELD, "priority",
          "priority must be an integer from " + MIN_PRIORITY + " to 0 (it can only put a request behind others)"));
      return;
    }
    GenerationSpec spec;
    try {
      spec = GenerationSpec.fromJson(body);
    } catch (RuntimeException e) {
      error(ctx, ApiError.of(ErrorCode.INVALID_FIELD, "generation spec fields are missing or of the wrong type"));
      return;
    }
    if (spec.prompt() == null || spec.model() == null || spec.model().isBlank()) {
      String field = spec.prompt() == null ? "prompt" : "model";
      error(ctx, ApiError.onField(ErrorCode.MISSING_FIELD, field, field + " is required"));
      return;
    }
    String caller = user == null ? RequestRow.ANONYMOUS : (String) user;
    ApiError unstorable = unstorable(spec, (String) key, caller);
    if (unstorable != null) {
      error(ctx, unstorable);
      return;
    }
    Object given = body.getValue("request_hash");
    if (given != null && !(given instanceof String text && RequestHash.isWellFormed(text))) {
      error(ctx, ApiError.onField(ErrorCode.INVALID_FIELD, "request_hash", "request_hash must be 64 lowercase hex digits"));
      return;
    }
    String hash = key == null ? null : given != null ? (String) given : RequestHash.of(caller, spec.toJson());
    submissions.submit(spec, (String) key, caller, hash, priority == null ? 0 : (Integer) priority)
        .compose(accepted -> {
          if (!accepted.created() && reused(accepted.row(), hash)) {
            return Future.failedFuture(new KeyReused());
          }
          return accepted.created()
              ? Future.succeededFuture(RequestView.of(accepted.row(), region, accepted.queuePosition(), accepted.etaMs()))
              : views.of(accepted.row());
        })
        .onSuccess(view -> {
          ctx.response().putHeader(HttpHeaders.LOCATION, RegionalApi.PREFIX + "/generations/" + view.getString("id"));
          json(ctx, 202, view);
        })
        .onFailure(err -> {
          if (err instanceof Overloaded shed) {
            ApiFailures.overloaded(ctx, shed);
          } else if (err instanceof KeyReused) {
            failures.keyReused(ctx);
          } else {
            failures.storageError(ctx, "submit", null, err);
          }
        });
  }

  /** The first row of a key says what it was for; a row from before hashes were kept cannot tell, and is answered. */
  private static boolean reused(RequestRow first, String hash) {
    return first.requestHash() != null && hash != null && !first.requestHash().equals(hash);
  }

  /** Text the request log cannot hold or would mangle (NUL, unpaired surrogates): 400 before anything is written. */
  private static ApiError unstorable(GenerationSpec spec, String key, String user) {
    Map<String, String> texts = new LinkedHashMap<>();
    texts.put("prompt", spec.prompt());
    texts.put("negative_prompt", spec.negativePrompt());
    texts.put("model", spec.model());
    texts.put("adapter", spec.adapter());
    texts.put("control_image", spec.controlImage());
    texts.put("idempotency_key", key);
    texts.put("user", user);
    for (Map.Entry<String, String> text : texts.entrySet()) {
      String problem = text.getValue() == null ? null : StorableText.problem(text.getValue());
      if (problem != null) {
        return ApiError.onField(ErrorCode.INVALID_VALUE, text.getKey(), text.getKey() + " " + problem);
      }
    }
    return null;
  }

  /** The key's first request had another body or caller. */
  private static final class KeyReused extends RuntimeException {
    KeyReused() {
      super("idempotency key reused", null, false, false);
    }
  }
}
