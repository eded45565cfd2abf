package dev.genmesh.safety;

import dev.genmesh.config.SafetyConfig;
import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.safety.impl.CheckHandler;
import dev.genmesh.safety.impl.ImageFetch;
import dev.genmesh.safety.impl.JsonReplies;
import dev.genmesh.safety.impl.PromptRules;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.Objects;
import javax.imageio.ImageIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reference Safety API genmesh ships (region-node/SAFETY.md): {@code POST /v1/check} with
 * prompt rules ({@code safety.blocked_terms}) and image checks on images it reads from the
 * region's object store by presigned URL, plus {@code /health/live},
 * {@code /health/ready} and {@code /metrics}. Its own verticle with its own HTTP server, so a
 * region node can run it next to itself or {@code genmesh safety} can run it alone. It is a
 * word list and a few pixel statistics, not a content classifier.
 */
public final class SafetyVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(SafetyVerticle.class);
  /** A check names its images by URL: a few KB at most. */
  public static final long MAX_BODY_BYTES = 1024L * 1024;
  /** The name of the verdict counter: {@code genmesh.safety.service.checks{verdict}}. */
  public static final String CHECKS = "genmesh.safety.service.checks";

  private final SafetyConfig config;
  private final String host;
  private final int port;
  private final MeterRegistry registry;
  private WorkerExecutor executor;
  private WebClient http;
  private volatile HttpServer server;

  /**
   * @param port 0 for any free port ({@link #actualPort()} tells which)
   * @param registry where the verdict counter goes
   */
  public SafetyVerticle(SafetyConfig config, String host, int port, MeterRegistry registry) {
    this.config = Objects.requireNonNull(config, "config");
    this.host = Objects.requireNonNull(host, "host");
    this.port = port;
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  @Override
  public Future<?> start() {
    executor = vertx.createSharedWorkerExecutor("genmesh-safety-checks", 2);
    http = WebClient.create(vertx);
    CheckHandler checks = new CheckHandler(new PromptRules(config.blockedTerms()), new ImageFetch(http, config.timeoutMs()),
        executor,
        verdict -> registry.counter(CHECKS, "verdict", verdict.wireName()).increment());
    Router router = Router.router(vertx);
    router.post("/v1/check").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES)).handler(checks);
    router.get("/health/live").handler(ctx -> JsonReplies.json(ctx, 200, new JsonObject().put("status", "UP")));
    router.get("/health/ready").handler(ctx -> JsonReplies.json(ctx, 200, new JsonObject().put("status", "UP")
        .put("blocked_terms", config.blockedTerms().size())));
    router.get("/metrics").handler(this::metrics);
    router.errorHandler(404, ctx -> JsonReplies.error(ctx,
        ApiError.of(ErrorCode.NOT_FOUND, "no such route: " + ctx.request().path())));
    // No error code of its own: a not_found body with the 405 status.
    router.errorHandler(405, ctx -> JsonReplies.json(ctx, 405, ApiError.of(ErrorCode.NOT_FOUND,
        "method " + ctx.request().method() + " not allowed on " + ctx.request().path()).toJson()));
    router.errorHandler(413, ctx -> JsonReplies.error(ctx, ApiError.onField(ErrorCode.BODY_TOO_LARGE, "body",
        "body exceeds " + MAX_BODY_BYTES + " bytes")));
    // ImageIO's first use loads AWT and its plugins (a second or more): pay it before the first check.
    return executor.executeBlocking(() -> ImageIO.getImageReadersByFormatName("png").hasNext(), false)
        .compose(hasPng -> vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port))
            .requestHandler(router)
            .listen())
        .onSuccess(listening -> {
          server = listening;
          LOG.info("reference safety service listening on {}:{} ({} blocked terms)", host, listening.actualPort(),
              config.blockedTerms().size());
        })
        .recover(err -> {
          executor.close();
          return Future.failedFuture(new IllegalStateException(
              "safety service cannot listen on " + host + ":" + port + ": " + err.getMessage(), err));
        });
  }

  @Override
  public Future<?> stop() {
    HttpServer closing = server;
    server = null;
    Future<Void> closed = closing == null ? Future.succeededFuture() : closing.close();
    if (http != null) {
      http.close();
    }
    return closed.transform(v -> executor == null ? Future.succeededFuture() : executor.close());
  }

  /** The port it listens on (the real one when asked for 0); -1 before start. */
  public int actualPort() {
    HttpServer current = server;
    return current == null ? -1 : current.actualPort();
  }

  private void metrics(RoutingContext ctx) {
    if (registry instanceof PrometheusMeterRegistry prometheus) {
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8").end(prometheus.scrape());
    } else {
      JsonReplies.error(ctx, ApiError.of(ErrorCode.NOT_FOUND, "metrics are not exported in Prometheus format here"));
    }
  }
}
