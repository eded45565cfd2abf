package dev.genmesh.region.api.impl;

import static dev.genmesh.region.api.impl.JsonReplies.error;
import static dev.genmesh.region.api.impl.JsonReplies.json;

import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.protocol.RequestIds;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.region.requests.ProgressHub;
import dev.genmesh.region.requests.ReplicaReads;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.RequestRow;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /regional/v1/generations/:id/events?after=N}: a request's events after N, as a
 * WebSocket ({@link EventStream}) or, for callers that poll, as one JSON answer.
 */
public final class EventRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(EventRoutes.class);

  private final RequestLog log;
  private final ProgressHub hub;
  private final ApiFailures failures;
  private final ReplicaReads replica;

  public EventRoutes(RequestLog log, ProgressHub hub, ApiFailures failures, ReplicaReads replica) {
    this.replica = replica;
    this.log = log;
    this.hub = hub;
    this.failures = failures;
  }

  public void handle(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    long after;
    try {
      String text = ctx.queryParams().get("after");
      after = text == null || text.isBlank() ? 0 : Long.parseLong(text.trim());
      if (after < 0) {
        throw new NumberFormatException("negative");
      }
    } catch (NumberFormatException e) {
      error(ctx, ApiError.onField(ErrorCode.INVALID_FIELD, "after", "after must be a whole number >= 0"));
      return;
    }
    if (!RequestIds.isWellFormed(id)) {
      failures.notFound(ctx, id);
      return;
    }
    String upgrade = ctx.request().getHeader(HttpHeaders.UPGRADE);
    boolean webSocket = upgrade != null && upgrade.toLowerCase().contains("websocket");
    long from = after;
    if (webSocket) {
      // Hold the request unread while the log answers, or the upgrade finds it consumed.
      ctx.request().pause();
    }
    log.find(id).onComplete(ar -> {
      if (ar.failed()) {
        failures.storageError(ctx, "events", id, ar.cause());
      } else if (ar.result().isEmpty()) {
        fromReplica(ctx, id, from, webSocket);
      } else {
        RequestRow row = ar.result().get();
        answer(ctx, id, from, webSocket, row.status(), row.status().isTerminal(), log::eventsAfter);
      }
    });
  }

  /** An id not in this log: the ward's replica answers if the request ended there, else 404. */
  private void fromReplica(RoutingContext ctx, String id, long from, boolean webSocket) {
    replica.ended(id).onComplete(ar -> {
      if (ar.failed()) {
        failures.storageError(ctx, "events", id, ar.cause());
      } else if (ar.result().isEmpty()) {
        failures.notFound(ctx, id);
      } else {
        ReplicaReads.Ended ended = ar.result().get();
        answer(ctx, id, from, webSocket, ended.row().status(), true, (rid, after) -> replica.eventsAfter(ended, after));
      }
    });
  }

  private void answer(RoutingContext ctx, String id, long from, boolean webSocket, RequestStatus status, boolean terminal,
      EventStream.Source source) {
    if (webSocket) {
      EventStream stream = new EventStream(id, from, terminal, source, hub);
      upgrade(ctx).onSuccess(stream::attach).onFailure(err -> {
        stream.cancel();
        LOG.debug("request {}: WebSocket upgrade failed: {}", id, err.toString());
        error(ctx, ApiError.of(ErrorCode.INVALID_FIELD, "WebSocket upgrade failed: " + err.getMessage()));
      });
      return;
    }
    // Plain GET: the stored events after N, for callers that poll.
    source.eventsAfter(id, from).onSuccess(events -> {
      JsonArray list = new JsonArray();
      events.forEach(event -> list.add(event.toJson()));
      json(ctx, 200, new JsonObject().put("id", id).put("status", status.wireName()).put("events", list));
    }).onFailure(err -> failures.storageError(ctx, "events", id, err));
  }

  private static Future<ServerWebSocket> upgrade(RoutingContext ctx) {
    try {
      return ctx.request().toWebSocket();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }
}
