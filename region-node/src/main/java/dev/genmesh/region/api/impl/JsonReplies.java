package dev.genmesh.region.api.impl;

import dev.genmesh.protocol.ApiError;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Writes the regional API's JSON answers, and every {@link ApiError} with the HTTP status of its code. */
public final class JsonReplies {
  public static final String JSON = "application/json";

  private JsonReplies() {}

  /** Nothing is written once the response has ended (a client gone, or an answer already sent). */
  public static void json(RoutingContext ctx, int status, JsonObject body) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(body.toBuffer());
  }

  public static void error(RoutingContext ctx, ApiError error) {
    json(ctx, error.httpStatus(), error.toJson());
  }
}
