package dev.genmesh.edge.regions.impl;

import java.util.Locale;

/** What the edge currently believes about one region. */
public enum HealthState {
  /** The last readiness poll answered 200, or the region just accepted a request. */
  HEALTHY,
  /** Not polled yet: usable, but after the healthy ones. */
  UNKNOWN,
  /** The last poll or a forwarded submit failed. */
  UNHEALTHY;

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
