package dev.genmesh.region.api;

import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.RequestIds;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.region.api.impl.EventStream;
import dev.genmesh.region.api.impl.RegionProbes;
import dev.genmesh.region.api.impl.RequestView;
import dev.genmesh.region.breaker.Overloaded;
import dev.genmesh.region.node.ImageStore;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.requests.ProgressHub;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.region.requests.StorageErrors;
import dev.genmesh.region.requests.impl.Cancellations;
import dev.genmesh.region.requests.impl.Submissions;
import dev.genmesh.region.scheduler.EtaEstimator;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The regional HTTP API (region-node/API.md): submit, status, event stream, images and
 * metrics (the probes are {@link RegionProbes}). Every user error is a 4xx with an {@link ApiError} body; every system error is
 * logged once with the request id and counted.
 */
public final class RegionalApi {
  private static final Logger LOG = LoggerFactory.getLogger(RegionalApi.class);
  public static final String PREFIX = "/regional/v1";
  /** Room for a base64 conditioning image; the edge enforces its own, smaller-or-equal limit. */
  static final long MAX_BODY_BYTES = 4 * 1024 * 1024;
  static final int MAX_IDEMPOTENCY_KEY = 256;
  static final int MAX_USER = 256;
  static final String RETRY_AFTER_SECONDS = "2";
  private static final Pattern IMAGE_FILE = Pattern.compile("(\\d{1,4})\\.png");
  private static final String JSON = "application/json";

  private final Vertx vertx;
  private final String region;
  private final RequestLog log;
  private final TierQueue queue;
  private final Submissions submissions;
  private final ProgressHub hub;
  private final ImageStore images;
  private final MeterRegistry meters;
  private final RegionMetrics metrics;
  private final Cancellations cancellations;
  private final EtaEstimator eta;
  private final Clock clock;

  public RegionalApi(RegionContext ctx, Submissions submissions, ImageStore images, Cancellations cancellations,
      EtaEstimator eta) {
    this.cancellations = cancellations;
    this.eta = eta;
    this.clock = ctx.clock();
    this.vertx = ctx.vertx();
    this.region = ctx.region();
    this.log = ctx.log();
    this.queue = ctx.queue();
    this.submissions = submissions;
    this.hub = ctx.hub();
    this.images = images;
    this.meters = ctx.meters();
    this.metrics = ctx.metrics();
  }

  public Router router() {
    Router router = Router.router(vertx);
    router.post(PREFIX + "/generations")
        .handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES))
        .handler(this::submit);
    router.get(PREFIX + "/generations/:id").handler(this::status);
    router.delete(PREFIX + "/generations/:id").handler(this::cancel);
    router.get(PREFIX + "/generations/:id/events").handler(this::events);
    router.get(PREFIX + "/images/:id/:file").handler(this::image);
    router.get("/metrics").handler(this::metrics);

    router.errorHandler(400, ctx -> error(ctx, 400, ApiError.of(ErrorCode.INVALID_JSON, "bad request")));
    router.errorHandler(404, ctx -> error(ctx, 404, ApiError.of(ErrorCode.NOT_FOUND, "no such route: " + ctx.request().path())));
    router.errorHandler(405, ctx -> error(ctx, 405,
        ApiError.of(ErrorCode.NOT_FOUND, "method " + ctx.request().method() + " not allowed on " + ctx.request().path())));
    router.errorHandler(413, ctx -> error(ctx, 413,
        ApiError.onField(ErrorCode.BODY_TOO_LARGE, "body", "body exceeds " + MAX_BODY_BYTES + " bytes")));
    router.errorHandler(500, ctx -> {
      metrics.systemError("http");
      LOG.error("unhandled error on {} {}", ctx.request().method(), ctx.request().path(), ctx.failure());
      error(ctx, 500, ApiError.of(ErrorCode.INTERNAL, "internal error"));
    });
    return router;
  }

  private void submit(RoutingContext ctx) {
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      error(ctx, 400, ApiError.of(ErrorCode.INVALID_JSON, "body is not a JSON object: " + e.getMessage()));
      return;
    }
    if (body == null) {
      error(ctx, 400, ApiError.of(ErrorCode.INVALID_JSON, "body must be a JSON object"));
      return;
    }
    Object key = body.getValue("idempotency_key");
    if (key != null && !(key instanceof String text && !text.isBlank() && text.length() <= MAX_IDEMPOTENCY_KEY)) {
      error(ctx, 400, ApiError.onField(ErrorCode.INVALID_FIELD, "idempotency_key",
          "idempotency_key must be a non-empty string of at most " + MAX_IDEMPOTENCY_KEY + " characters"));
      return;
    }
    Object user = body.getValue("user");
    if (user != null && !(user instanceof String text && !text.isBlank() && text.length() <= MAX_USER)) {
      error(ctx, 400, ApiError.onField(ErrorCode.INVALID_FIELD, "user",
          "user must be a non-empty string of at most " + MAX_USER + " characters"));
      return;
    }
    GenerationSpec spec;
    try {
      spec = GenerationSpec.fromJson(body);
    } catch (RuntimeException e) {
      error(ctx, 400, ApiError.of(ErrorCode.INVALID_FIELD, "generation spec fields are missing or of the wrong type"));
      return;
    }
    if (spec.prompt() == null || spec.model() == null || spec.model().isBlank()) {
      String field = spec.prompt() == null ? "prompt" : "model";
      error(ctx, 400, ApiError.onField(ErrorCode.MISSING_FIELD, field, field + " is required"));
      return;
    }
    submissions.submit(spec, (String) key, user == null ? RequestRow.ANONYMOUS : (String) user)
        .compose(accepted -> accepted.created()
            ? Future.succeededFuture(RequestView.of(accepted.row(), region, accepted.queuePosition(), accepted.etaMs()))
            : view(accepted.row()))
        .onSuccess(view -> {
          ctx.response().putHeader(HttpHeaders.LOCATION, PREFIX + "/generations/" + view.getString("id"));
          json(ctx, 202, view);
        })
        .onFailure(err -> {
          if (err instanceof Overloaded shed) {
            overloaded(ctx, shed);
          } else {
            storageError(ctx, "submit", null, err);
          }
        });
  }

  private void status(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    if (!RequestIds.isWellFormed(id)) {
      notFound(ctx, id);
      return;
    }
    log.find(id).compose(row -> row.isEmpty() ? Future.succeededFuture(Optional.<JsonObject>empty()) : view(row.get()).map(Optional::of))
        .onSuccess(view -> {
          if (view.isEmpty()) {
            notFound(ctx, id);
          } else {
            json(ctx, 200, view.get());
          }
        })
        .onFailure(err -> storageError(ctx, "status", id, err));
  }

  /** {@code DELETE}: 200 with the cancelled view, 409 if it already ended, 404 if unknown. */
  private void cancel(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    if (!RequestIds.isWellFormed(id)) {
      notFound(ctx, id);
      return;
    }
    cancellations.cancel(id)
        .onSuccess(outcome -> {
          if (outcome.isEmpty()) {
            notFound(ctx, id);
          } else if (!outcome.get().cancelled()) {
            error(ctx, 409, ApiError.of(ErrorCode.ALREADY_TERMINAL,
                "request " + id + " is already " + outcome.get().row().status().wireName()));
          } else {
            json(ctx, 200, RequestView.of(outcome.get().row(), region, null, null));
          }
        })
        .onFailure(err -> storageError(ctx, "cancel", id, err));
  }

  /**
   * The view; a QUEUED request gets its live position and ETA (null when Redis cannot tell; a
   * retry in its backoff gets no position and an ETA of its remaining wait plus its run time).
   */
  private Future<JsonObject> view(RequestRow row) {
    if (row.status() != RequestStatus.QUEUED) {
      return Future.succeededFuture(RequestView.of(row, region, null, null));
    }
    GenerationSpec spec = row.generationSpec();
    return queue.place(row.id(), row.tier())
        .map(place -> {
          Long position = null;
          OptionalLong etaMs = OptionalLong.empty();
          if (place.rank() >= 0) {
            position = eta.position(row.tier(), place.rank(), place.depths());
            etaMs = eta.etaMs(spec, position, 0);
          } else if (place.dueMs() != null) {
            etaMs = eta.etaMs(spec, 0, place.dueMs() - clock.millis());
          }
          return RequestView.of(row, region, position, etaMs.isPresent() ? etaMs.getAsLong() : null);
        })
        .otherwise(err -> RequestView.of(row, region, null, null));
  }

  private void events(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    long after;
    try {
      String text = ctx.queryParams().get("after");
      after = text == null || text.isBlank() ? 0 : Long.parseLong(text.trim());
      if (after < 0) {
        throw new NumberFormatException("negative");
      }
    } catch (NumberFormatException e) {
      error(ctx, 400, ApiError.onField(ErrorCode.INVALID_FIELD, "after", "after must be a whole number >= 0"));
      return;
    }
    if (!RequestIds.isWellFormed(id)) {
      notFound(ctx, id);
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
        storageError(ctx, "events", id, ar.cause());
      } else if (ar.result().isEmpty()) {
        notFound(ctx, id);
      } else if (webSocket) {
        EventStream stream = new EventStream(id, from, ar.result().get().status().isTerminal(), log, hub);
        upgrade(ctx).onSuccess(stream::attach).onFailure(err -> {
          stream.cancel();
          LOG.debug("request {}: WebSocket upgrade failed: {}", id, err.toString());
          error(ctx, 400, ApiError.of(ErrorCode.INVALID_FIELD, "WebSocket upgrade failed: " + err.getMessage()));
        });
      } else {
        // Plain GET: the stored events after N, for callers that poll.
        log.eventsAfter(id, from).onSuccess(events -> {
          JsonArray list = new JsonArray();
          events.forEach(event -> list.add(event.toJson()));
          json(ctx, 200, new JsonObject().put("id", id).put("status", ar.result().get().status().wireName()).put("events", list));
        }).onFailure(err -> storageError(ctx, "events", id, err));
      }
    });
  }

  private static Future<ServerWebSocket> upgrade(RoutingContext ctx) {
    try {
      return ctx.request().toWebSocket();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private void image(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    Matcher file = IMAGE_FILE.matcher(ctx.pathParam("file"));
    if (!RequestIds.isWellFormed(id) || !file.matches()) {
      error(ctx, 404, ApiError.of(ErrorCode.NOT_FOUND, "no such image"));
      return;
    }
    int index = Integer.parseInt(file.group(1));
    log.find(id).onComplete(found -> {
      if (found.failed()) {
        storageError(ctx, "image", id, found.cause());
      } else if (deliverable(ctx, id, index, found.result())) {
        sendImage(ctx, id, images.file(id, index));
      }
    });
  }

  /**
   * Only a COMPLETED request's images are served: they passed the safety gate. Anything else
   * answers here: 409 not_ready while the request may still complete (safety_pending,
   * generating...), 404 when it never will or has no such image.
   */
  private static boolean deliverable(RoutingContext ctx, String id, int index, Optional<RequestRow> row) {
    if (row.isEmpty()) {
      error(ctx, 404, ApiError.of(ErrorCode.NOT_FOUND, "no such image"));
      return false;
    }
    RequestStatus status = row.get().status();
    if (status == RequestStatus.COMPLETED) {
      Integer count = row.get().imageCount();
      if (count != null && index < count) {
        return true;
      }
      error(ctx, 404, ApiError.of(ErrorCode.NOT_FOUND, "request " + id + " has no image " + index));
    } else if (status.isTerminal()) {
      error(ctx, 404, ApiError.of(ErrorCode.NOT_FOUND, "request " + id + " is " + status.wireName() + ": it has no images"));
    } else {
      error(ctx, 409, ApiError.of(ErrorCode.NOT_READY, "request " + id + " is " + status.wireName()
          + ": its images are served once it completes"));
    }
    return false;
  }

  private void sendImage(RoutingContext ctx, String id, Path path) {
    vertx.fileSystem().props(path.toString()).onComplete(ar -> {
      if (ar.failed() || !ar.result().isRegularFile()) {
        error(ctx, 404, ApiError.of(ErrorCode.NOT_FOUND, "no such image"));
        return;
      }
      String etag = "\"" + Long.toHexString(ar.result().size()) + "-" + Long.toHexString(ar.result().lastModifiedTime()) + "\"";
      ctx.response()
          .putHeader(HttpHeaders.CONTENT_TYPE, "image/png")
          .putHeader(HttpHeaders.CACHE_CONTROL, "public, max-age=31536000, immutable")
          .putHeader(HttpHeaders.ETAG, etag);
      if (etag.equals(ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH))) {
        ctx.response().setStatusCode(304).end();
      } else {
        ctx.response().sendFile(path.toString()).onFailure(err -> LOG.debug("request {}: image not sent: {}", id, err.toString()));
      }
    });
  }

  private void metrics(RoutingContext ctx) {
    if (meters instanceof PrometheusMeterRegistry prometheus) {
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8").end(prometheus.scrape());
    } else {
      error(ctx, 404, ApiError.of(ErrorCode.NOT_FOUND, "metrics are not exported in Prometheus format by this node"));
    }
  }

  private void notFound(RoutingContext ctx, String id) {
    error(ctx, 404, ApiError.of(ErrorCode.NOT_FOUND, "no request " + id + " in region " + region));
  }

  /** The global circuit breaker sheds this tier: 503 with Retry-After (counted by the breakers, not logged per request). */
  private static void overloaded(RoutingContext ctx, Overloaded shed) {
    ctx.response().putHeader(HttpHeaders.RETRY_AFTER, Long.toString(shed.retryAfterSeconds()));
    error(ctx, 503, ApiError.of(ErrorCode.OVERLOADED, shed.getMessage()));
  }

  private void storageError(RoutingContext ctx, String op, String id, Throwable err) {
    metrics.systemError(op);
    if (StorageErrors.isUnavailable(err)) {
      LOG.warn("{} {}: request log unavailable: {}", op, id == null ? "(new request)" : "request " + id, err.toString());
      ctx.response().putHeader(HttpHeaders.RETRY_AFTER, RETRY_AFTER_SECONDS);
      error(ctx, 503, ApiError.of(ErrorCode.STORAGE_UNAVAILABLE, "the region's request log is unavailable, retry shortly"));
    } else {
      LOG.error("{} {} failed", op, id == null ? "(new request)" : "request " + id, err);
      error(ctx, 500, ApiError.of(ErrorCode.INTERNAL, "internal error"));
    }
  }

  private static void error(RoutingContext ctx, int status, ApiError error) {
    json(ctx, status, error.toJson());
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(body.encode());
  }
}
