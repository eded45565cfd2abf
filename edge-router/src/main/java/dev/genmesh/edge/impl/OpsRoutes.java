package dev.genmesh.edge.impl;

import dev.genmesh.edge.regions.impl.RegionHealth;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.CheckResult;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.RoutingContext;

/**
 * Probes and metrics: {@code /health/live}, {@code /health/ready} (vertx-health-check
 * procedures, in its JSON format), {@code /metrics}.
 */
public final class OpsRoutes {
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final RegionHealth health;
  private final MeterRegistry registry;
  private final HealthChecks liveChecks;
  private final HealthChecks readyChecks;

  public OpsRoutes(Vertx vertx, RegionHealth health, MeterRegistry registry) {
    this.health = health;
    this.registry = registry;
    // Running at all means the edge's event loop answers: nothing else can stop it serving.
    this.liveChecks = HealthChecks.create(vertx).register("event_loop", promise -> promise.complete(Status.OK()));
    // Ready while at least one region is known healthy: the edge has somewhere to send work.
    this.readyChecks = HealthChecks.create(vertx).register("regions", promise -> {
      int healthy = health.healthyCount();
      JsonObject data = new JsonObject().put("healthy", healthy);
      promise.complete(healthy > 0 ? Status.OK(data) : Status.KO(data.put("error", "no region is known healthy")));
    });
  }

  public void live(RoutingContext ctx) {
    answer(ctx, liveChecks, null);
  }

  /** As the vertx-health-check body, plus {@code regions}: what the edge believes about each region. */
  public void ready(RoutingContext ctx) {
    answer(ctx, readyChecks, health.toJson());
  }

  private static void answer(RoutingContext ctx, HealthChecks checks, JsonObject regions) {
    checks.checkStatus().onComplete(done -> {
      boolean up = done.succeeded() && CheckResult.isUp(done.result());
      JsonObject body = done.succeeded() ? done.result().toJson()
          : new JsonObject().put("status", "DOWN").put("error", String.valueOf(done.cause().getMessage()));
      if (regions != null) {
        body.put("regions", regions);
      }
      JsonReplies.json(ctx, up ? 200 : 503, body);
    });
  }

  public void metrics(RoutingContext ctx) {
    if (registry instanceof PrometheusMeterRegistry prometheus) {
      ctx.response().putHeader("Content-Type", PROMETHEUS_TEXT).end(prometheus.scrape());
    } else {
      JsonReplies.notFound(ctx, "metrics (the meter registry is not Prometheus)");
    }
  }
}
