package dev.genmesh.inference;

import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's own HTTP endpoints (inference-verticle/WORKER.md, "Probes"): {@code /health/live}
 * and {@code /health/ready} in the vertx-health-check format (200 UP, 503 DOWN, each named
 * check listed), and {@code /metrics} (Prometheus text, when the registry is Prometheus).
 *
 * <p>Deploy it before the {@link InferenceVerticle} it reports on, so the probes answer while
 * the models load: live, not ready.
 */
public final class WorkerHttp extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerHttp.class);
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final InferenceVerticle worker;
  private final MeterRegistry registry;
  private final String host;
  private final int port;
  private HttpServer server;

  /** @param port 0: any free port ({@link #actualPort()} tells which) */
  public WorkerHttp(InferenceVerticle worker, MeterRegistry registry, String host, int port) {
    this.worker = worker;
    this.registry = registry;
    this.host = host;
    this.port = port;
  }

  @Override
  public Future<?> start() {
    var probes = worker.probes();
    HealthChecks live = HealthChecks.create(vertx);
    probes.registerLiveness(vertx, live);
    HealthChecks ready = HealthChecks.create(vertx);
    probes.registerReadiness(ready);

    Router router = Router.router(vertx);
    router.get("/health/live").handler(HealthCheckHandler.createWithHealthChecks(live));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(ready));
    router.get("/metrics").handler(this::metrics);
    router.route().last().handler(ctx -> error(ctx, ApiError.of(ErrorCode.NOT_FOUND,
        "no such route: " + ctx.request().method() + " " + ctx.normalizedPath())));
    return vertx.createHttpServer().requestHandler(router).listen(port, host)
        .onSuccess(listening -> {
          server = listening;
          worker.httpPort(listening.actualPort());
          LOG.info("worker probes and metrics on http://{}:{}", host, listening.actualPort());
        })
        .recover(e -> Future.failedFuture(new IllegalStateException(
            "the worker's HTTP cannot listen on " + host + ":" + port + ": " + e.getMessage(), e)));
  }

  /** The port it listens on (the real one when asked for port 0); -1 before it listens. */
  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }

  private void metrics(RoutingContext ctx) {
    if (registry instanceof PrometheusMeterRegistry prometheus) {
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, PROMETHEUS_TEXT).end(prometheus.scrape());
    } else {
      error(ctx, ApiError.of(ErrorCode.NOT_FOUND, "metrics are not exported in Prometheus format by this worker"));
    }
  }

  private static void error(RoutingContext ctx, ApiError error) {
    ctx.response().setStatusCode(error.httpStatus()).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(error.toJson().encode());
  }
}
