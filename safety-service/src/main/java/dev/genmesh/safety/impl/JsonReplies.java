package dev.genmesh.safety.impl;

import dev.genmesh.protocol.ApiError;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Writes the service's JSON answers and {@link ApiError} bodies the same way everywhere. */
public final class JsonReplies {
  private JsonReplies() {}

  public static void json(RoutingContext ctx, int status, JsonObject body) {
    if (!ctx.response().ended()) {
      ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.encode());
    }
  }

  /** With the status of its code. */
  public static void error(RoutingContext ctx, ApiError error) {
    json(ctx, error.httpStatus(), error.toJson());
  }
}
