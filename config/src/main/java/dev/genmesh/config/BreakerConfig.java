package dev.genmesh.config;

import dev.genmesh.config.impl.Node;

/** Circuit breakers per model, per worker, and one global failure-rate breaker. */
public record BreakerConfig(Breaker model, Breaker worker, GlobalBreaker global) {

  /**
   * Opens after {@code failures} in a row, stays open {@code openMs}, then half-open lets
   * {@code halfOpenPermits} trial requests run at a time; {@code successes} close it.
   */
  public record Breaker(int failures, int successes, long openMs, int halfOpenPermits) {
    public static final int DEFAULT_HALF_OPEN_PERMITS = 1;

    /** With one trial request at a time while half-open. */
    public Breaker(int failures, int successes, long openMs) {
      this(failures, successes, openMs, DEFAULT_HALF_OPEN_PERMITS);
    }

    static Breaker read(Node n) {
      Breaker breaker = new Breaker(
          n.integer("failures", 1, 10_000), n.integer("successes", 1, 10_000), n.integer("open_ms", 1L, 86_400_000L),
          n.integer("half_open_permits", 1, 10_000, DEFAULT_HALF_OPEN_PERMITS));
      n.finish();
      return breaker;
    }
  }

  /**
   * Opens when more than {@code failureRate} of the outcomes of the last {@code windowMs} failed,
   * once the window holds at least {@code minOutcomes}; shed submits are told to come back after
   * {@code retryAfterMs}.
   */
  public record GlobalBreaker(double failureRate, long windowMs, int minOutcomes, long retryAfterMs) {
    public static final int DEFAULT_MIN_OUTCOMES = 20;
    public static final long DEFAULT_RETRY_AFTER_MS = 10_000;

    public GlobalBreaker(double failureRate, long windowMs) {
      this(failureRate, windowMs, DEFAULT_MIN_OUTCOMES, DEFAULT_RETRY_AFTER_MS);
    }

    static GlobalBreaker read(Node n) {
      GlobalBreaker breaker = new GlobalBreaker(n.decimal("failure_rate", 0.0, 1.0), n.integer("window_ms", 1L, 86_400_000L),
          n.integer("min_outcomes", 1, 1_000_000, DEFAULT_MIN_OUTCOMES),
          n.integer("retry_after_ms", 1000L, 3_600_000L, DEFAULT_RETRY_AFTER_MS));
      n.finish();
      return breaker;
    }
  }

  static BreakerConfig read(Node n) {
    BreakerConfig config = new BreakerConfig(
        Breaker.read(n.child("model")), Breaker.read(n.child("worker")), GlobalBreaker.read(n.child("global")));
    n.finish();
    return config;
  }
}
