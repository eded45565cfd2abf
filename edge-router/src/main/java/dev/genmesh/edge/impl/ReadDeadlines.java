package dev.genmesh.edge.impl;

import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Read deadlines beyond the HTTP server's idle timeout (which bounds a first request's headers:
 * it counts complete request heads and body chunks, not header bytes, as activity). A kept-alive
 * connection must deliver its next request's headers within {@code keep_alive_timeout_ms} of the
 * previous response ending, or it is closed; a submit's body must be in within
 * {@code body_timeout_ms} of its headers (a body trickled a byte at a time keeps resetting the
 * idle timeout), or it gets {@code 408 request_timeout} and the connection is closed.
 * Connections upgraded to a WebSocket have no such deadline. HTTP/1.x only: the edge serves no
 * HTTP/2.
 */
public final class ReadDeadlines {
  private static final Logger LOG = LoggerFactory.getLogger(ReadDeadlines.class);

  private final Vertx vertx;
  private final long keepAliveTimeoutMs;
  private final long bodyTimeoutMs;
  private final EdgeMetrics metrics;
  /** The deadline of each kept-alive connection waiting for its next request. */
  private final Map<HttpConnection, Long> waiting = new ConcurrentHashMap<>();
  private final Map<HttpConnection, Boolean> upgraded = new ConcurrentHashMap<>();

  public ReadDeadlines(Vertx vertx, long keepAliveTimeoutMs, long bodyTimeoutMs, EdgeMetrics metrics) {
    this.vertx = vertx;
    this.keepAliveTimeoutMs = keepAliveTimeoutMs;
    this.bodyTimeoutMs = bodyTimeoutMs;
    this.metrics = metrics;
  }

  /** For the server's connection handler (Vert.x may call it only once a request arrives): forget it when it closes. */
  public void opened(HttpConnection connection) {
    connection.closeHandler(closed -> {
      disarm(connection);
      upgraded.remove(connection);
    });
  }

  /** First route of every request: its headers are in; the next request's are due when its response ends. */
  public void requestStarted(RoutingContext ctx) {
    HttpConnection connection = ctx.request().connection();
    disarm(connection);
    ctx.addEndHandler(ended -> arm(connection));
    ctx.next();
  }

  /** The connection now carries a WebSocket: no more requests, no deadline. */
  public void upgraded(HttpConnection connection) {
    upgraded.put(connection, Boolean.TRUE);
    disarm(connection);
  }

  /** Before a body handler: answers 408 if the whole body is not in within the body timeout. */
  public void bodyDue(RoutingContext ctx) {
    if (ctx.request().isEnded()) {
      ctx.next();
      return;
    }
    long timer = vertx.setTimer(bodyTimeoutMs, fired -> {
      if (ctx.request().isEnded() || ctx.response().ended()) {
        return;
      }
      LOG.debug("{} {}: body not in after {} ms, closing", ctx.request().method(), ctx.normalizedPath(), bodyTimeoutMs);
      metrics.rejected(null, ErrorCode.REQUEST_TIMEOUT.wireName());
      closeWith(ctx, ApiError.of(ErrorCode.REQUEST_TIMEOUT,
          "the request body did not arrive within " + bodyTimeoutMs + " ms"));
    });
    ctx.addEndHandler(ended -> vertx.cancelTimer(timer));
    ctx.next();
  }

  private void arm(HttpConnection connection) {
    if (upgraded.containsKey(connection)) {
      return;
    }
    long timer = vertx.setTimer(keepAliveTimeoutMs, fired -> {
      if (waiting.remove(connection) != null && !upgraded.containsKey(connection)) {
        LOG.debug("connection from {}: no next request within {} ms, closing", connection.remoteAddress(), keepAliveTimeoutMs);
        connection.close();
      }
    });
    Long before = waiting.put(connection, timer);
    if (before != null) {
      vertx.cancelTimer(before);
    }
  }

  private void disarm(HttpConnection connection) {
    Long timer = waiting.remove(connection);
    if (timer != null) {
      vertx.cancelTimer(timer);
    }
  }

  /** A JSON error, then the connection closes: the rest of the body is never read. */
  private static void closeWith(RoutingContext ctx, ApiError error) {
    HttpServerResponse response = ctx.response();
    response.setStatusCode(error.httpStatus())
        .putHeader("Content-Type", JsonReplies.JSON)
        .putHeader("Cache-Control", "no-store")
        .putHeader("Connection", "close")
        .end(error.toJson().toBuffer())
        .onComplete(written -> ctx.request().connection().close());
  }
}
