package dev.genmesh.config;

import dev.genmesh.config.impl.Node;

/** Circuit breakers per model, per worker, and one global failure-rate breaker. */
public record BreakerConfig(Breaker model, Breaker worker, GlobalBreaker global) {

  /** Opens after {@code failures} in a row, closes after {@code successes} half-open, stays open {@code openMs}. */
  public record Breaker(int failures, int successes, long openMs) {
    static Breaker read(Node n) {
      Breaker breaker = new Breaker(
          n.integer("failures", 1, 10_000), n.integer("successes", 1, 10_000), n.integer("open_ms", 1L, 86_400_000L));
      n.finish();
      return breaker;
    }
  }

  /** Opens when the failure rate over the window exceeds {@code failureRate}. */
  public record GlobalBreaker(double failureRate, long windowMs) {
    static GlobalBreaker read(Node n) {
      GlobalBreaker breaker = new GlobalBreaker(n.decimal("failure_rate", 0.0, 1.0), n.integer("window_ms", 1L, 86_400_000L));
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
