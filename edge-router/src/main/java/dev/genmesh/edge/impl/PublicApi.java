package dev.genmesh.edge.impl;

import dev.genmesh.edge.access.impl.AccessRoutes;
import dev.genmesh.edge.access.impl.Caller;
import dev.genmesh.edge.access.impl.EdgeAccess;
import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge's routes: public API v1, the OpenAI Images API shape, the web page, the API's contract and
 * reference page, probes and metrics; JSON errors for everything. edge-router/src/main/resources/
 * dev/genmesh/edge/openapi.yaml describes each (OpenApiContractTest holds the two together).
 */
public final class PublicApi {
  private static final Logger LOG = LoggerFactory.getLogger(PublicApi.class);

  private PublicApi() {}

  public static Router router(
      Vertx vertx, int maxBodyBytes, EdgeAccess access, ReadDeadlines deadlines, GenerationRoutes generations,
      ProgressRelay progress, ImageProxy images, OpsRoutes ops, ModelRoutes models, Buffer indexPage,
      Consumer<Router> openAi, Consumer<Router> apiDocs) {
    Router router = Router.router(vertx);
    router.route().handler(deadlines::requestStarted);
    // Before the guards of /v1/images/*: the OpenAI shape answers every error its own way.
    openAi.accept(router);
    // Every call about generations and images names its caller, and one about a request by id is
    // answered to its owner (or an admin) only: docs/security.md.
    access.mount(router, images::handle);
    router.post("/v1/generations").handler(deadlines::bodyDue); // a route of its own: the body handler must come first on its route
    router.post("/v1/generations")
        .handler(BodyHandler.create(false).setBodyLimit(maxBodyBytes))
        .handler(models::beforeSubmit)
        .handler(generations::submit)
        .failureHandler(generations::submitFailed);
    router.delete("/v1/generations/:id").handler(generations::cancel);
    router.get("/v1/generations/:id/events").handler(progress::handle);
    router.get("/v1/generations/:id").handler(generations::view);
    router.get("/v1/images/:id/:file").handler(images::handle);
    router.head("/v1/images/:id/:file").handler(images::handle);
    router.get("/v1/models").handler(models::list);
    router.get("/health/live").handler(ops::live);
    router.get("/health/ready").handler(ops::ready);
    router.get("/metrics").handler(ops::metrics);
    apiDocs.accept(router);
    // The web page's and the console's scripts (webroot/assets on the classpath); an unknown name falls to the JSON 404.
    router.get("/assets/*").handler(StaticHandler.create("webroot/assets").setCachingEnabled(false));
    router.get("/").handler(ctx -> ctx.response()
        .putHeader("Content-Type", "text/html; charset=utf-8")
        .putHeader("Cache-Control", "no-cache")
        .end(indexPage));
    router.route().last().handler(ctx -> JsonReplies.notFound(ctx, ctx.request().method() + " " + ctx.normalizedPath()));
    router.route().failureHandler(PublicApi::failure);
    return router;
  }

  /**
   * Who holds an event stream, for its per-client bound: the user of a valid API key, else the
   * remote address (behind a proxy that does not keep it, every client shares the proxy's).
   */
  public static String client(RoutingContext ctx) {
    Caller caller = AccessRoutes.caller(ctx);
    if (!Caller.ANONYMOUS.equals(caller.user())) {
      return "user " + caller.user();
    }
    HttpServerRequest request = ctx.request();
    return "address " + (request.remoteAddress() == null ? "unknown" : request.remoteAddress().hostAddress());
  }

  /** The server's handler of requests it could not decode: the same answers as Vert.x's default, as JSON. */
  public static void malformed(HttpServerRequest request) {
    Throwable cause = request.decoderResult().cause();
    ApiError error;
    if (cause instanceof TooLongHttpLineException) {
      error = ApiError.of(ErrorCode.URI_TOO_LONG, "the request line is longer than this edge accepts");
    } else if (cause instanceof TooLongHttpHeaderException) {
      error = ApiError.of(ErrorCode.HEADERS_TOO_LARGE, "the request headers are larger than this edge accepts");
    } else {
      error = ApiError.of(ErrorCode.INVALID_REQUEST, "the HTTP request is malformed");
    }
    request.response().setStatusCode(error.httpStatus())
        .putHeader("Content-Type", JsonReplies.JSON)
        .putHeader("Connection", "close")
        .end(error.toJson().toBuffer())
        .onComplete(written -> request.connection().close());
  }

  private static void failure(RoutingContext ctx) {
    int status = ctx.statusCode();
    if (status == 413) {
      JsonReplies.error(ctx, ApiError.of(ErrorCode.BODY_TOO_LARGE, "the body is larger than this edge accepts"));
    } else if (status == 400) {
      JsonReplies.error(ctx, ApiError.of(ErrorCode.INVALID_JSON, "the body could not be read"));
    } else if (status == 404 || status == 405) {
      JsonReplies.notFound(ctx, ctx.request().method() + " " + ctx.normalizedPath());
    } else {
      LOG.error("unexpected failure on {} {} (status {})", ctx.request().method(), ctx.normalizedPath(), status, ctx.failure());
      JsonReplies.error(ctx, ApiError.of(ErrorCode.INTERNAL, "internal error"));
    }
  }
}
