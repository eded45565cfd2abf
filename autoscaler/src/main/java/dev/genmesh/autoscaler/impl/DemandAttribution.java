package dev.genmesh.autoscaler.impl;

import dev.genmesh.autoscaler.PoolCosts;
import dev.genmesh.autoscaler.ScalingObservation.PoolState;
import dev.genmesh.autoscaler.ScalingObservation.QueueStat;
import dev.genmesh.autoscaler.ScalingObservation;
import dev.genmesh.config.AutoscalingConfig;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.GpuConfig;
import dev.genmesh.protocol.Tier;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Which pool serves which demand: each request class goes to the cheapest pool the routing matrix
 * allows (cost per hour over speed: cost per request), and what would push that pool past its
 * maximum spills to the next cheapest. A class's queues and predicted arrivals are split between
 * pools in the same proportion, and each tier's worker minimum in proportion to its arrivals.
 */
final class DemandAttribution {
  private final GenmeshConfig genmesh;
  private final Map<String, List<String>> poolChoices = new HashMap<>();
  private final AutoscalingConfig autoscaling;
  private final Map<String, GpuConfig> gpus;
  private final double[] targetUtilisation = new double[PoolView.TIERS];
  private final double[] drainSeconds = new double[PoolView.TIERS];
  private final double[] tierMinimum = new double[PoolView.TIERS];

  DemandAttribution(GenmeshConfig config) {
    this.genmesh = config;
    this.autoscaling = config.autoscaling();
    this.gpus = config.gpus();
    for (Tier tier : Tier.values()) {
      targetUtilisation[tier.ordinal()] = autoscaling.targetUtilisation().get(tier.wireName());
      drainSeconds[tier.ordinal()] = autoscaling.waitTargetMs(tier.wireName()) / 2000.0;
      tierMinimum[tier.ordinal()] = autoscaling.tierMinimums().getOrDefault(tier.wireName(), 0L);
    }
  }

  double[] targetUtilisation() {
    return targetUtilisation;
  }

  /** The pools the request class may run on, cheapest per request first. */
  List<String> poolsFor(String requestClass) {
    return poolChoices.computeIfAbsent(requestClass, c -> PoolCosts.cheapestFirst(genmesh, c));
  }

  /**
   * @param plannedQps the region's arrivals to plan for (the policy's: the prediction, or what
   *     arrives now if that is more); each queue's planned rate is its share of it
   */
  Map<String, PoolView> attribute(ScalingObservation observation, double plannedQps, Map<String, double[]> shares) {
    Map<String, PoolView> views = new LinkedHashMap<>();
    for (String pool : autoscaling.pools().keySet()) {
      PoolState state = observation.pools().get(pool);
      double serviceSeconds = state != null && state.meanServiceMs() > 0 ? state.meanServiceMs() / 1000.0
          : autoscaling.baseServiceMs() / 1000.0 / gpus.get(pool).speed();
      views.put(pool, state == null
          ? new PoolView(pool, serviceSeconds, 0, 0, 0, Double.NaN, Map.of())
          : new PoolView(pool, serviceSeconds, state.ready(), state.starting(), state.draining(), state.utilisation(),
              state.loadedModels()));
    }

    TreeSet<String> classes = new TreeSet<>(shares.keySet());
    classes.addAll(observation.queues().keySet());
    // Split by the smoothed mix (one minute of one queue's arrivals is too noisy to size a pool on).
    double planned = plannedQps;
    Map<String, double[]> rates = new HashMap<>();
    for (String requestClass : classes) {
      double[] share = shares.getOrDefault(requestClass, new double[PoolView.TIERS]);
      double[] rate = new double[PoolView.TIERS];
      for (int t = 0; t < PoolView.TIERS; t++) {
        rate[t] = planned * share[t];
      }
      rates.put(requestClass, rate);
    }
    List<String> order = new ArrayList<>(classes);
    order.sort(Comparator.comparingDouble((String c) -> -sum(rates.get(c))).thenComparing(c -> c));

    Map<String, Double> allocated = new HashMap<>();
    double[] tierTotal = new double[PoolView.TIERS];
    for (String requestClass : order) {
      double[] rate = rates.get(requestClass);
      for (int t = 0; t < PoolView.TIERS; t++) {
        tierTotal[t] += rate[t];
      }
      List<String> pools = poolsFor(requestClass);
      double remaining = 1.0;
      for (int i = 0; i < pools.size() && remaining > 1e-9; i++) {
        String pool = pools.get(i);
        PoolView view = views.get(pool);
        double need = need(requestClass, rate, view.serviceSeconds, observation);
        double room = autoscaling.pools().get(pool).max() - allocated.getOrDefault(pool, 0.0);
        boolean last = i == pools.size() - 1;
        double fraction = need <= 1e-9 || last ? remaining : Math.min(remaining, Math.max(0, room) / need);
        if (fraction <= 0) {
          continue;
        }
        allocated.merge(pool, fraction * need, Double::sum);
        add(view, requestClass, rate, fraction, observation);
        remaining -= fraction;
      }
    }
    reserve(views, tierTotal, shares);
    return views;
  }

  /**
   * Each tier's minimum goes to the pools in proportion to the tier's predicted arrivals there; a
   * tier with none predicted reserves on the cheapest pool of each class by the demand mix.
   */
  private void reserve(Map<String, PoolView> views, double[] tierTotal, Map<String, double[]> shares) {
    for (int t = 0; t < PoolView.TIERS; t++) {
      if (tierTotal[t] > 1e-12) {
        for (PoolView view : views.values()) {
          view.reserve[t] = tierMinimum[t] * view.arrivals[t] / tierTotal[t];
        }
        continue;
      }
      double shareTotal = 0;
      for (double[] share : shares.values()) {
        shareTotal += share[t];
      }
      for (Map.Entry<String, double[]> entry : shares.entrySet()) {
        double weight = shareTotal > 1e-12 ? entry.getValue()[t] / shareTotal : 1.0 / shares.size();
        views.get(poolsFor(entry.getKey()).get(0)).reserve[t] += tierMinimum[t] * weight;
      }
    }
  }

  private double need(String requestClass, double[] rate, double serviceSeconds, ScalingObservation observation) {
    double need = 0;
    for (Tier tier : Tier.values()) {
      int t = tier.ordinal();
      need += rate[t] * serviceSeconds / targetUtilisation[t]
          + observation.queue(requestClass, tier).depth() * serviceSeconds / drainSeconds[t];
    }
    return need;
  }

  private void add(PoolView view, String requestClass, double[] rate, double fraction, ScalingObservation observation) {
    for (Tier tier : Tier.values()) {
      int t = tier.ordinal();
      QueueStat stat = observation.queue(requestClass, tier);
      view.depth[t] += fraction * stat.depth();
      view.waitWeighted[t] += fraction * stat.depth() * stat.averageWaitMs();
      view.arrivals[t] += fraction * rate[t];
      view.backlog[t] += fraction * stat.depth() * view.serviceSeconds / drainSeconds[t];
    }
    view.classes.add(requestClass);
  }

  private static double sum(double[] values) {
    double s = 0;
    for (double v : values) {
      s += v;
    }
    return s;
  }
}
