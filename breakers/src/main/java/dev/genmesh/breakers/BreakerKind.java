package dev.genmesh.breakers;

import java.util.Locale;

/** Which breaker of a region: one per model, one per worker, one global. */
public enum BreakerKind {
  MODEL, WORKER, GLOBAL;

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
