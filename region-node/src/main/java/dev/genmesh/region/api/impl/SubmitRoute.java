package dev.genmesh.region.api.impl;

import static dev.genmesh.region.api.impl.JsonReplies.error;
import static dev.genmesh.region.api.impl.JsonReplies.json;

import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.region.api.RegionalApi;
import dev.genmesh.region.breaker.Overloaded;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.region.requests.impl.Submissions;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** {@code POST /regional/v1/generations}: 202 with the request's view once it is committed to the log. */
public final class SubmitRoute {
  static final int MAX_IDEMPOTENCY_KEY = 256;
  static final int MAX_USER = 256;

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
    submissions.submit(spec, (String) key, user == null ? RequestRow.ANONYMOUS : (String) user)
        .compose(accepted -> accepted.created()
            ? Future.succeededFuture(RequestView.of(accepted.row(), region, accepted.queuePosition(), accepted.etaMs()))
            : views.of(accepted.row()))
        .onSuccess(view -> {
          ctx.response().putHeader(HttpHeaders.LOCATION, RegionalApi.PREFIX + "/generations/" + view.getString("id"));
          json(ctx, 202, view);
        })
        .onFailure(err -> {
          if (err instanceof Overloaded shed) {
            ApiFailures.overloaded(ctx, shed);
          } else {
            failures.storageError(ctx, "submit", null, err);
          }
        });
  }
}
