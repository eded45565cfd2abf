package dev.genmesh.region.api.impl;

import static dev.genmesh.region.api.impl.JsonReplies.error;

import dev.genmesh.breakers.Overloaded;
import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.region.api.RegionalApi;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.region.requests.StorageErrors;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import io.vertx.pgclient.PgException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The regional API's answers to what went wrong: unknown requests, shed submits, values the
 * store refused (the caller's error, 400), store failures (logged once, counted).
 */
public final class ApiFailures {
  private static final Logger LOG = LoggerFactory.getLogger(RegionalApi.class);
  public static final String RETRY_AFTER_SECONDS = "2";

  private final String region;
  private final RegionMetrics metrics;

  public ApiFailures(String region, RegionMetrics metrics) {
    this.region = region;
    this.metrics = metrics;
  }

  public void notFound(RoutingContext ctx, String id) {
    error(ctx, ApiError.of(ErrorCode.NOT_FOUND, "no request " + id + " in region " + region));
  }

  /** The global circuit breaker sheds this tier: 503 with Retry-After (counted by the breakers, not logged per request). */
  public static void overloaded(RoutingContext ctx, Overloaded shed) {
    ctx.response().putHeader(HttpHeaders.RETRY_AFTER, Long.toString(shed.retryAfterSeconds()));
    error(ctx, ApiError.of(ErrorCode.OVERLOADED, shed.getMessage()));
  }

  public void storageError(RoutingContext ctx, String op, String id, Throwable err) {
    ApiError refused = refusedValue(err);
    if (refused != null) {
      // The request's own data, not the region: answered 4xx so that the edge neither spills it over nor marks us down.
      LOG.info("{} {}: the request log refused a value: {}", op, id == null ? "(new request)" : "request " + id, refused.message());
      error(ctx, refused);
      return;
    }
    metrics.systemError(op);
    if (StorageErrors.isUnavailable(err)) {
      LOG.warn("{} {}: request log unavailable: {}", op, id == null ? "(new request)" : "request " + id, err.toString());
      ctx.response().putHeader(HttpHeaders.RETRY_AFTER, RETRY_AFTER_SECONDS);
      error(ctx, ApiError.of(ErrorCode.STORAGE_UNAVAILABLE, "the region's request log is unavailable, retry shortly"));
    } else {
      LOG.error("{} {} failed", op, id == null ? "(new request)" : "request " + id, err);
      error(ctx, ApiError.of(ErrorCode.INTERNAL, "internal error"));
    }
  }

  /**
   * PostgreSQL refused a value of the request (a data exception, SQLSTATE class 22: a NUL
   * character, an invalid Unicode escape, a number out of range...): 400 {@code invalid_value};
   * null for any other failure.
   */
  public static ApiError refusedValue(Throwable err) {
    for (Throwable cause = err; cause != null; cause = cause.getCause()) {
      if (cause instanceof PgException pg) {
        String state = pg.getSqlState();
        if (state == null || !state.startsWith("22")) {
          return null;
        }
        String detail = pg.getErrorMessage() == null ? "" : pg.getErrorMessage();
        return ApiError.of(ErrorCode.INVALID_VALUE, "a value of the request cannot be stored (SQLSTATE " + state + "): "
            + (detail.length() > 200 ? detail.substring(0, 200) + "..." : detail));
      }
    }
    return null;
  }

  /** The idempotency key was first used for another request (another body, or another caller): 422. */
  public void keyReused(RoutingContext ctx) {
    error(ctx, ApiError.onField(ErrorCode.IDEMPOTENCY_KEY_REUSED, "idempotency_key",
        "idempotency_key was already used for a different request; use a new key for a new request"));
  }

  /** A failure nothing else answered (a bug): 500, logged and counted. */
  public void unhandled(RoutingContext ctx) {
    metrics.systemError("http");
    LOG.error("unhandled error on {} {}", ctx.request().method(), ctx.request().path(), ctx.failure());
    error(ctx, ApiError.of(ErrorCode.INTERNAL, "internal error"));
  }
}
