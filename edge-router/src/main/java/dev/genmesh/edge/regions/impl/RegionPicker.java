package dev.genmesh.edge.regions.impl;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Orders the regions a submit should try: healthy ones by measured latency, then the ones
 * not polled yet, also by latency. Unhealthy regions are left out while anything else is
 * left; when all are unhealthy they are still returned, by latency, as the last resort.
 * Regions without a latency entry sort after measured ones, then by name. Pure.
 */
public final class RegionPicker {
  private final List<String> regions;
  private final Comparator<String> byLatency;

  public RegionPicker(Collection<String> regions, Map<String, Long> latencyMs) {
    Map<String, Long> latency = Map.copyOf(latencyMs);
    this.byLatency = Comparator.<String>comparingLong(r -> latency.getOrDefault(r, Long.MAX_VALUE))
        .thenComparing(Comparator.naturalOrder());
    this.regions = regions.stream().sorted(byLatency).toList();
  }

  /** Candidates in the order to try them; {@code health} may omit regions (they count as unknown). */
  public List<String> candidates(Map<String, HealthState> health) {
    List<String> healthy = new ArrayList<>();
    List<String> unknown = new ArrayList<>();
    List<String> unhealthy = new ArrayList<>();
    for (String region : regions) {
      switch (health.getOrDefault(region, HealthState.UNKNOWN)) {
        case HEALTHY -> healthy.add(region);
        case UNKNOWN -> unknown.add(region);
        case UNHEALTHY -> unhealthy.add(region);
      }
    }
    healthy.addAll(unknown);
    return healthy.isEmpty() ? unhealthy : healthy;
  }

  /** Every region, by latency. */
  public List<String> regions() {
    return regions;
  }
}
