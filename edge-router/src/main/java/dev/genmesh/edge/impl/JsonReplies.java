package dev.genmesh.edge.impl;

import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Writes JSON answers and {@link ApiError} bodies the same way everywhere. */
public final class JsonReplies {
  public static final String JSON = "application/json; charset=utf-8";

  private JsonReplies() {}

  public static void json(RoutingContext ctx, int status, JsonObject body) {
    send(ctx, status, body.toBuffer());
  }

  public static void send(RoutingContext ctx, int status, Buffer body) {
    HttpServerResponse response = ctx.response();
    if (response.ended() || response.closed()) {
      return;
    }
    response.setStatusCode(status).putHeader("Content-Type", JSON).putHeader("Cache-Control", "no-store").end(body);
  }

  public static void error(RoutingContext ctx, ApiError error) {
    json(ctx, error.httpStatus(), error.toJson());
  }

  /** 503 with Retry-After: the client may try again, in a while. */
  public static void unavailable(RoutingContext ctx, ErrorCode code, String message, long retryAfterSeconds) {
    if (!ctx.response().ended()) {
      ctx.response().putHeader("Retry-After", Long.toString(Math.max(1, retryAfterSeconds)));
    }
    error(ctx, ApiError.of(code, message));
  }

  public static void notFound(RoutingContext ctx, String what) {
    error(ctx, ApiError.of(ErrorCode.NOT_FOUND, what + " not found"));
  }
}
