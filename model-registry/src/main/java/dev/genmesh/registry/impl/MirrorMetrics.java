package dev.genmesh.registry.impl;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A region mirror's meters: failures by reason, versions pulled, versions held, and the seconds
 * since the last sync with the primary that succeeded (since the mirror started, before the first).
 */
public final class MirrorMetrics {
  private final MeterRegistry meters;
  private final String region;
  private final Clock clock;
  private final AtomicInteger held = new AtomicInteger();
  private final Counter pulled;
  private final List<Meter> registered = new ArrayList<>();
  private final Instant started;
  private volatile Instant lastSync;

  public MirrorMetrics(MeterRegistry meters, String region, Clock clock) {
    this.meters = meters;
    this.region = region;
    this.clock = clock;
    this.started = clock.instant();
    pulled = keep(Counter.builder("genmesh.registry.mirror.pulls").description("Model versions pulled from the primary registry")
        .tag("region", region).register(meters));
    keep(Gauge.builder("genmesh.registry.mirror.versions", held, AtomicInteger::get)
        .description("Model versions this region's registry holds").tag("region", region).register(meters));
    keep(Gauge.builder("genmesh.registry.mirror.sync.age", this, MirrorMetrics::secondsSinceSync).baseUnit("seconds")
        .description("Seconds since this region last synced with the primary registry").tag("region", region).register(meters));
  }

  public void failed(MirrorFailure.Reason reason) {
    keep(Counter.builder("genmesh.registry.mirror.failures").description("Failed mirror steps (a sync, a version's pull)")
        .tag("region", region).tag("reason", reason.tag()).register(meters)).increment();
  }

  public void pulled() {
    pulled.increment();
  }

  public void synced(int versionsHeld) {
    held.set(versionsHeld);
    lastSync = clock.instant();
  }

  public void held(int versionsHeld) {
    held.set(versionsHeld);
  }

  /** When the last sync succeeded; null before the first. */
  public Instant lastSync() {
    return lastSync;
  }

  public double secondsSinceSync() {
    Instant since = lastSync == null ? started : lastSync;
    return Duration.between(since, clock.instant()).toMillis() / 1000.0;
  }

  /** Unbinds the meters, so a node started again on the same registry reports its own. */
  public void close() {
    synchronized (registered) {
      registered.forEach(meters::remove);
      registered.clear();
    }
  }

  private <M extends Meter> M keep(M meter) {
    synchronized (registered) {
      if (!registered.contains(meter)) {
        registered.add(meter);
      }
    }
    return meter;
  }
}
