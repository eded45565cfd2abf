package dev.genmesh.breakers;

import dev.genmesh.protocol.Tier;

/** A submit refused because the global breaker sheds its tier: answer 503 {@code overloaded} with Retry-After. */
public final class Overloaded extends RuntimeException {
  private final Tier tier;
  private final long retryAfterSeconds;

  public Overloaded(Tier tier, double failureRate, long retryAfterSeconds) {
    super(String.format(java.util.Locale.ROOT,
        "the region is shedding %s requests: %.0f%% of recent attempts failed; retry after %d s",
        tier.wireName(), failureRate * 100, retryAfterSeconds), null, false, false);
    this.tier = tier;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public Tier tier() {
    return tier;
  }

  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
