package dev.genmesh.autoscaler.impl;

import dev.genmesh.autoscaler.ScalingObservation;
import dev.genmesh.config.AutoscalingConfig;
import dev.genmesh.protocol.Tier;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The share of the region's arrivals per request class and tier, smoothed over the forecast's
 * level window: it splits the region-wide forecast into per-queue demand. Before any arrival it
 * uses a prior from the config: each model family's share of {@code model_mix} on its first
 * request class, tiers in the proportion of their worker minimums.
 */
final class DemandMix {
  private final long windowMs;
  private final Map<String, double[]> prior = new TreeMap<>();
  private final Map<String, double[]> smoothed = new TreeMap<>();
  private Instant last;

  DemandMix(AutoscalingConfig config) {
    this.windowMs = config.forecast().levelWindowMs();
    double tierTotal = config.tierMinimums().values().stream().mapToLong(Long::longValue).sum();
    config.modelMix().forEach((family, share) -> {
      List<String> classes = config.modelClasses().get(family);
      String requestClass = classes == null || classes.isEmpty() ? "" : classes.get(0);
      double[] shares = prior.computeIfAbsent(requestClass, k -> new double[Tier.values().length]);
      for (Tier tier : Tier.values()) {
        double tierShare = tierTotal == 0 ? 1.0 / Tier.values().length
            : config.tierMinimums().getOrDefault(tier.wireName(), 0L) / tierTotal;
        shares[tier.ordinal()] += share * tierShare;
      }
    });
  }

  void update(ScalingObservation observation, Instant now) {
    double weight = last == null ? 1.0 : 1 - Math.exp(-Duration.between(last, now).toMillis() / (double) windowMs);
    last = now;
    for (double[] rates : smoothed.values()) {
      for (int t = 0; t < rates.length; t++) {
        rates[t] *= 1 - weight;
      }
    }
    observation.queues().forEach((requestClass, tiers) -> {
      double[] rates = smoothed.computeIfAbsent(requestClass, k -> new double[Tier.values().length]);
      tiers.forEach((tier, stat) -> rates[tier.ordinal()] += weight * stat.arrivalsPerSecond());
    });
  }

  /** Request class → share per tier (indexed by {@link Tier#ordinal()}), all shares adding up to 1. */
  Map<String, double[]> shares() {
    double total = smoothed.values().stream().mapToDouble(DemandMix::sum).sum();
    Map<String, double[]> source = total > 1e-9 ? smoothed : prior;
    double sum = total > 1e-9 ? total : prior.values().stream().mapToDouble(DemandMix::sum).sum();
    Map<String, double[]> out = new LinkedHashMap<>();
    source.forEach((requestClass, rates) -> {
      double[] shares = new double[rates.length];
      for (int t = 0; t < rates.length; t++) {
        shares[t] = sum > 0 ? rates[t] / sum : 0;
      }
      out.put(requestClass, shares);
    });
    return out;
  }

  private static double sum(double[] values) {
    double s = 0;
    for (double v : values) {
      s += v;
    }
    return s;
  }
}
