package dev.genmesh.launcher.fault;

import dev.genmesh.config.GenmeshConfig;
import java.time.Duration;

/**
 * Time bounds a fault test derives from the configuration its processes run with (queue, health
 * and worker settings), instead of fixed numbers: what each recovery path should take, so that an
 * assertion can tell one path from another, and how long a wait may be before it is a failure.
 */
final class FaultBounds {
  /** Slack for a wait (not an assertion): JVMs, TensorFlow and stores share two cores here. */
  private static final Duration WAIT_SLACK = Duration.ofSeconds(30);

  private final GenmeshConfig config;

  FaultBounds(GenmeshConfig config) {
    this.config = config;
  }

  /** The retry backoff of retry number {@code retry}: {@code min(backoff_cap, 2^retry s)} (README, "How requests move"). */
  Duration backoff(int retry) {
    long ms = retry >= 40 ? Long.MAX_VALUE : (1L << Math.max(0, retry)) * 1000L;
    return Duration.ofMillis(Math.min(config.queue().backoffCapMs(), ms));
  }

  /** From a request's return to the queue (retry number {@code retry}) until an idle worker's claim takes it. */
  Duration redispatch(int retry) {
    return backoff(retry).plusMillis(config.worker().claimPollMs());
  }

  /** The silence after which the region judges a worker unhealthy: {@code min(misses × interval, timeout)}. */
  Duration unhealthyAfter() {
    return Duration.ofMillis(Math.min(config.health().unhealthyAfterMisses() * config.health().heartbeatIntervalMs(),
        config.health().heartbeatTimeoutMs()));
  }

  /** Until a silent worker's lease has lapsed and the reaper has seen it: the lease plus one reaper pass. */
  Duration leaseLapse() {
    return Duration.ofMillis(config.queue().leaseMs() + config.queue().leaseReapIntervalMs());
  }

  /**
   * The earliest a fault could be noticed through silence (missed heartbeats, or a lease that is
   * not renewed): the last heartbeat may have gone out up to one heartbeat interval before the fault.
   */
  Duration earliestSilenceVerdict() {
    Duration silence = unhealthyAfter().compareTo(Duration.ofMillis(config.queue().leaseMs())) < 0
        ? unhealthyAfter() : Duration.ofMillis(config.queue().leaseMs());
    return silence.minusMillis(config.worker().heartbeatIntervalMs());
  }

  /** How long to wait for something expected to take {@code expected}: generous, since a wait proves nothing by its length. */
  static Duration patience(Duration expected) {
    return expected.multipliedBy(3).plus(WAIT_SLACK);
  }
}
