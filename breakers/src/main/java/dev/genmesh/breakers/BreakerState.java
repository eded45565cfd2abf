package dev.genmesh.breakers;

import java.util.Locale;

/** Where a circuit breaker stands; {@link #gaugeValue()} is what the state gauge reports. */
public enum BreakerState {
  CLOSED(0), HALF_OPEN(1), OPEN(2);

  private final int gaugeValue;

  BreakerState(int gaugeValue) {
    this.gaugeValue = gaugeValue;
  }

  public int gaugeValue() {
    return gaugeValue;
  }

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
