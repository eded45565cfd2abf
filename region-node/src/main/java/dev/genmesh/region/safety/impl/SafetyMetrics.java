package dev.genmesh.region.safety.impl;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** The safety gate's meters, tagged with the region (the breaker's are the client's). */
public final class SafetyMetrics {
  /** Checks by verdict: {@code allow}, {@code block}, {@code unavailable} (no answer). */
  public static final String CHECKS = "genmesh.safety.checks";
  /** Requests of the region waiting in SAFETY_PENDING (from the log, refreshed by the sweeper). */
  public static final String PENDING = "genmesh.safety.pending";
  /** Requests that waited longer than {@code safety.alert_after_ms} (one alert each). */
  public static final String ALERTS = "genmesh.safety.pending.alerts";

  private final MeterRegistry meters;
  private final String region;
  private final AtomicLong pending = new AtomicLong();
  private final Meter pendingGauge;
  /** The checks' counters by verdict, found once (one per request). */
  private final Map<String, Counter> checks = new ConcurrentHashMap<>();

  public SafetyMetrics(MeterRegistry meters, String region) {
    this.meters = meters;
    this.region = region;
    this.pendingGauge = Gauge.builder(PENDING, pending, AtomicLong::get)
        .description("Requests waiting in safety_pending for their safety check")
        .tags("region", region)
        .register(meters);
  }

  public void checked(String verdict) {
    checks.computeIfAbsent(verdict, v -> meters.counter(CHECKS, "region", region, "verdict", v)).increment();
  }

  public void pending(long count) {
    pending.set(count);
  }

  public void alerted() {
    meters.counter(ALERTS, "region", region).increment();
  }

  /** Unbinds the gauge, so a node started again on the same meter registry reports its own. */
  public void close() {
    meters.remove(pendingGauge);
  }
}
