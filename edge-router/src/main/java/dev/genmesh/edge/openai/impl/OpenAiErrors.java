package dev.genmesh.edge.openai.impl;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Errors in OpenAI's shape, {@code {error: {message, type, param, code}}}, as its SDKs read them. */
final class OpenAiErrors {
  static final String JSON = "application/json; charset=utf-8";

  private OpenAiErrors() {}

  /** OpenAI's error {@code type} for an HTTP status. */
  static String typeOf(int status) {
    return switch (status) {
      case 401 -> "authentication_error";
      case 403 -> "permission_error";
      case 429 -> "rate_limit_error";
      default -> status >= 500 ? "server_error" : "invalid_request_error";
    };
  }

  static JsonObject body(int status, String message, String param, String code) {
    JsonObject error = new JsonObject().put("message", message).put("type", typeOf(status));
    error.put("param", param).put("code", code);
    return new JsonObject().put("error", error);
  }

  static void send(RoutingContext ctx, int status, String message, String param, String code) {
    if (ctx.response().ended() || ctx.response().closed()) {
      return;
    }
    ctx.response().setStatusCode(status).putHeader("Content-Type", JSON).putHeader("Cache-Control", "no-store")
        .end(body(status, message, param, code).toBuffer());
  }

  /**
   * A genmesh answer {@code {code, message, field?}} (from the edge's own API) told again in
   * OpenAI's shape, with the same status; its {@code Retry-After} is kept.
   */
  static void relay(RoutingContext ctx, int status, Buffer genmeshBody, String retryAfter) {
    JsonObject error = null;
    try {
      error = genmeshBody == null || genmeshBody.length() == 0 ? null : new JsonObject(genmeshBody);
    } catch (RuntimeException notJson) {
      // answered below with a generic message
    }
    String code = error == null ? null : error.getString("code");
    String message = error == null ? "the request failed with status " + status : error.getString("message");
    if (retryAfter != null && !ctx.response().ended()) {
      ctx.response().putHeader("Retry-After", retryAfter);
    }
    if (status == 401 && !ctx.response().ended()) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
    }
    send(ctx, status, message, OpenAiRequest.paramOf(error == null ? null : error.getString("field")), code);
  }
}
