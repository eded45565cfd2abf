package dev.genmesh.region.api;

import static dev.genmesh.region.api.impl.JsonReplies.error;
import static dev.genmesh.region.api.impl.JsonReplies.json;

import dev.genmesh.images.ImageStore;
import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.region.api.impl.ApiFailures;
import dev.genmesh.region.api.impl.EventRoutes;
import dev.genmesh.region.api.impl.GenerationRoutes;
import dev.genmesh.region.api.impl.ImageRoutes;
import dev.genmesh.region.api.impl.LiveView;
import dev.genmesh.region.api.impl.SubmitRoute;
import dev.genmesh.region.images.ImageCopies;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.requests.ReplicaReads;
import dev.genmesh.region.requests.impl.Cancellations;
import dev.genmesh.region.requests.impl.Submissions;
import dev.genmesh.region.scheduler.EtaEstimator;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The regional HTTP API (region-node/API.md): submit, status, cancel, event stream, images and
 * metrics. Every user error is a 4xx with an {@link ApiError} body; every system error is logged
 * once with the request id and counted.
 */
public final class RegionalApi {
  public static final String PREFIX = "/regional/v1";
  /** Room for a base64 conditioning image; the edge enforces its own, smaller-or-equal limit. */
  static final long MAX_BODY_BYTES = 4 * 1024 * 1024;

  private final Vertx vertx;
  private final MeterRegistry meters;
  private final ApiFailures failures;
  private final SubmitRoute submit;
  private final GenerationRoutes generations;
  private final EventRoutes events;
  private final ImageRoutes images;

  /** @param replica answers for the ended requests of this region's ward that its log does not hold */
  public RegionalApi(RegionContext ctx, Submissions submissions, ImageStore images, ImageCopies copies,
      Cancellations cancellations, EtaEstimator eta, ReplicaReads replica) {
    this.vertx = ctx.vertx();
    this.meters = ctx.meters();
    this.failures = new ApiFailures(ctx.region(), ctx.metrics());
    LiveView views = new LiveView(ctx, eta);
    this.submit = new SubmitRoute(ctx.region(), submissions, views, failures);
    this.generations = new GenerationRoutes(ctx.region(), ctx.log(), cancellations, views, failures, replica);
    this.events = new EventRoutes(ctx.log(), ctx.hub(), failures, replica);
    this.images = new ImageRoutes(ctx.log(), images, copies, failures, ctx.metrics(),
        java.time.Duration.ofMillis(ctx.config().images().presignTtlMs()), ctx.clock());
  }

  public Router router() {
    Router router = Router.router(vertx);
    router.post(PREFIX + "/generations")
        .handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES))
        .handler(submit::handle);
    router.get(PREFIX + "/generations/:id").handler(generations::status);
    router.delete(PREFIX + "/generations/:id").handler(generations::cancel);
    router.get(PREFIX + "/generations/:id/events").handler(events::handle);
    router.get(PREFIX + "/images/:id/:file").handler(images::handle);
    router.head(PREFIX + "/images/:id/:file").handler(images::handle);
    router.get(PREFIX + "/images/:id/:file/link").handler(images::link);
    router.get("/metrics").handler(this::metrics);

    router.errorHandler(400, ctx -> error(ctx, ApiError.of(ErrorCode.INVALID_JSON, "bad request")));
    router.errorHandler(404, ctx -> error(ctx, ApiError.of(ErrorCode.NOT_FOUND, "no such route: " + ctx.request().path())));
    router.errorHandler(405, ctx -> json(ctx, 405,
        ApiError.of(ErrorCode.NOT_FOUND, "method " + ctx.request().method() + " not allowed on " + ctx.request().path())
            .toJson()));
    router.errorHandler(413, ctx -> error(ctx,
        ApiError.onField(ErrorCode.BODY_TOO_LARGE, "body", "body exceeds " + MAX_BODY_BYTES + " bytes")));
    router.errorHandler(500, failures::unhandled);
    return router;
  }

  private void metrics(RoutingContext ctx) {
    if (meters instanceof PrometheusMeterRegistry prometheus) {
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8").end(prometheus.scrape());
    } else {
      error(ctx, ApiError.of(ErrorCode.NOT_FOUND, "metrics are not exported in Prometheus format by this node"));
    }
  }
}
