package dev.genmesh.edge.impl;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.function.Supplier;

/**
 * The edge's meters. Every {@code genmesh.edge.requests} counter carries the same tag keys
 * (tier, outcome, code) because Prometheus wants one label set per metric name.
 */
public final class EdgeMetrics {
  public static final String REQUESTS = "genmesh.edge.requests";
  public static final String SPILLOVER = "genmesh.edge.spillover";
  public static final String SUBMIT_TIME = "genmesh.edge.submit.time";
  public static final String HEALTHY_REGIONS = "genmesh.edge.regions.healthy";

  static final String NO_CODE = "none";
  static final String UNKNOWN_TIER = "unknown";

  private final MeterRegistry registry;
  private Gauge healthyGauge;

  public EdgeMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public MeterRegistry registry() {
    return registry;
  }

  public void accepted(String tier) {
    requests(tier, "accepted", NO_CODE).increment();
  }

  public void rejected(String tier, String code) {
    requests(tier, "rejected", code).increment();
  }

  /** @param code {@code region_unavailable}, or {@code overloaded} when every region shed the tier */
  public void unavailable(String tier, String code) {
    requests(tier, "unavailable", code).increment();
  }

  public void spillover(String from, String to) {
    Counter.builder(SPILLOVER)
        .description("Submits passed on to the next region after one failed")
        .tag("from", from)
        .tag("to", to)
        .register(registry)
        .increment();
  }

  public Timer.Sample startSubmit() {
    return Timer.start(registry);
  }

  public void stopSubmit(Timer.Sample sample, String outcome) {
    sample.stop(Timer.builder(SUBMIT_TIME)
        .description("Time from receiving a submit to answering it")
        .tag("outcome", outcome)
        .register(registry));
  }

  public void watchHealthyRegions(Supplier<Number> healthy) {
    healthyGauge = Gauge.builder(HEALTHY_REGIONS, healthy)
        .description("Regions whose last readiness check passed")
        .strongReference(true)
        .register(registry);
  }

  public void close() {
    if (healthyGauge != null) {
      registry.remove(healthyGauge);
      healthyGauge = null;
    }
  }

  private Counter requests(String tier, String outcome, String code) {
    return Counter.builder(REQUESTS)
        .description("Generation submits by tier and outcome")
        .tag("tier", tier == null ? UNKNOWN_TIER : tier)
        .tag("outcome", outcome)
        .tag("code", code)
        .register(registry);
  }
}
