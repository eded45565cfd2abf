package dev.genmesh.edge.impl;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Probes and metrics: {@code /health/live}, {@code /health/ready}, {@code /metrics}. */
public final class OpsRoutes {
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final RegionHealth health;
  private final MeterRegistry registry;

  public OpsRoutes(RegionHealth health, MeterRegistry registry) {
    this.health = health;
    this.registry = registry;
  }

  public void live(RoutingContext ctx) {
    JsonReplies.json(ctx, 200, new JsonObject().put("status", "UP"));
  }

  /** Ready while at least one region is known healthy: the edge has somewhere to send work. */
  public void ready(RoutingContext ctx) {
    boolean up = health.healthyCount() > 0;
    JsonObject body = new JsonObject().put("status", up ? "UP" : "DOWN").put("regions", health.toJson());
    JsonReplies.json(ctx, up ? 200 : 503, body);
  }

  public void metrics(RoutingContext ctx) {
    if (registry instanceof PrometheusMeterRegistry prometheus) {
      ctx.response().putHeader("Content-Type", PROMETHEUS_TEXT).end(prometheus.scrape());
    } else {
      JsonReplies.notFound(ctx, "metrics (the meter registry is not Prometheus)");
    }
  }
}
