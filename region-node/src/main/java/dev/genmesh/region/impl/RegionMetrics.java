package dev.genmesh.region.impl;

import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.protocol.Tier;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** The region node's meters, all tagged with the region. */
public final class RegionMetrics {
  public static final String REQUESTS = "genmesh.requests";
  public static final String STEP_TIME = "genmesh.step.time";
  public static final String QUEUE_DEPTH = "genmesh.queue.depth";
  public static final String REDIS_ERRORS = "genmesh.redis.errors";
  public static final String RESULTS_DISCARDED = "genmesh.results.discarded";
  public static final String STEPS_DISCARDED = "genmesh.steps.discarded";
  public static final String ERRORS = "genmesh.errors";

  private final MeterRegistry registry;
  private final String region;
  private final Map<Tier, AtomicLong> depths = new EnumMap<>(Tier.class);
  private final List<Meter> gauges = new ArrayList<>();

  public RegionMetrics(MeterRegistry registry, String region) {
    this.registry = registry;
    this.region = region;
    for (Tier tier : Tier.values()) {
      AtomicLong depth = new AtomicLong();
      depths.put(tier, depth);
      gauges.add(Gauge.builder(QUEUE_DEPTH, depth, AtomicLong::get)
          .description("Requests waiting in the tier queue (ZCARD, refreshed every second)")
          .tags("region", region, "tier", tier.wireName())
          .register(registry));
    }
  }

  /** Counts a submit (status queued) or a terminal transition. */
  public void request(Tier tier, RequestStatus status) {
    registry.counter(REQUESTS, "region", region, "tier", tier.wireName(), "status", status.wireName()).increment();
  }

  public void stepTime(String model, double stepMs) {
    Timer.builder(STEP_TIME)
        .description("Duration of one denoising step, as reported by the worker")
        .tags("region", region, "model", model)
        .register(registry)
        .record(Duration.ofNanos((long) (Math.max(0, stepMs) * 1_000_000)));
  }

  /** A step of an attempt that is no longer current. */
  public void staleStep() {
    registry.counter(STEPS_DISCARDED, "region", region).increment();
  }

  /** A result or failure report of a stale attempt (kind: result or failure). */
  public void discarded(String kind) {
    registry.counter(RESULTS_DISCARDED, "region", region, "kind", kind).increment();
  }

  public void redisError(String op) {
    registry.counter(REDIS_ERRORS, "region", region, "op", op).increment();
  }

  /** An error the system caused (logged once by the caller). */
  public void systemError(String op) {
    registry.counter(ERRORS, "region", region, "op", op).increment();
  }

  public void depths(Map<Tier, Long> current) {
    current.forEach((tier, depth) -> depths.get(tier).set(depth));
  }

  /** Unbinds the gauges, so a node started again on the same registry reports its own. */
  public void close() {
    gauges.forEach(registry::remove);
    gauges.clear();
  }
}
