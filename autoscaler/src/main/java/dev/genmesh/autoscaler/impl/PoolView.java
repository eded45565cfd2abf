package dev.genmesh.autoscaler.impl;

import dev.genmesh.protocol.Tier;
import java.util.LinkedHashMap;
import java.util.Map;

/** One pool as the policy sees it in one evaluation: its workers and the demand attributed to it. */
final class PoolView {
  static final int TIERS = Tier.values().length;

  final String pool;
  final double serviceSeconds;
  final int ready;
  final int starting;
  final int draining;
  final double utilisation;
  final Map<String, Integer> loadedModels;
  /** Per tier (by ordinal): requests waiting. */
  final double[] depth = new double[TIERS];
  /** Per tier: depth × average wait, to average waits over the classes attributed here. */
  final double[] waitWeighted = new double[TIERS];
  /** Per tier: predicted arrivals per second. */
  final double[] arrivals = new double[TIERS];
  /** Per tier: workers that draining the backlog within half the wait target takes. */
  final double[] backlog = new double[TIERS];
  /** Per tier: workers reserved by the tier minimums. */
  final double[] reserve = new double[TIERS];
  /** Workers planned: the larger of live ones and the policy's target (an actuator may lag). */
  int capacity;
  /** Request classes attributed here (some of their demand or queue). */
  final java.util.Set<String> classes = new java.util.TreeSet<>();

  PoolView(String pool, double serviceSeconds, int ready, int starting, int draining, double utilisation,
      Map<String, Integer> loadedModels) {
    this.pool = pool;
    this.serviceSeconds = serviceSeconds;
    this.ready = ready;
    this.starting = starting;
    this.draining = draining;
    this.utilisation = utilisation;
    this.loadedModels = loadedModels;
    this.capacity = ready + starting;
  }

  int live() {
    return ready + starting;
  }

  /** Busy workers the predicted arrivals need at full utilisation. */
  double demandWorkers() {
    double sum = 0;
    for (double a : arrivals) {
      sum += a * serviceSeconds;
    }
    return sum;
  }

  /**
   * Workers wanted. Dispatch is by priority, so turbo sees the whole pool and each tier waits
   * behind the ones above it: for every tier k, the demand of tiers up to k at k's target
   * utilisation, plus their backlogs; the largest of those. Never below the tier reservations:
   * each tier at least its minimum on top of what the others keep busy.
   */
  double need(double[] targetUtilisation) {
    double demand = 0;
    double backlogs = 0;
    double need = 0;
    double reserved = 0;
    for (int t = 0; t < TIERS; t++) {
      double busy = arrivals[t] * serviceSeconds;
      demand += busy;
      backlogs += backlog[t];
      need = Math.max(need, demand / targetUtilisation[t] + backlogs);
      reserved += Math.max(reserve[t], busy);
    }
    return Math.max(need, reserved);
  }

  double reserved() {
    double sum = 0;
    for (double r : reserve) {
      sum += r;
    }
    return sum;
  }

  /** The {@code predicted_load} signal: predicted demand over capacity (planned workers). */
  double predictedLoad() {
    double demand = demandWorkers();
    if (capacity == 0) {
      return demand > 1e-9 ? Double.POSITIVE_INFINITY : 0;
    }
    return demand / capacity;
  }

  /** The value of a trigger signal for this pool. */
  double signal(String name) {
    switch (name) {
      case "depth.all":
        return depth[0] + depth[1] + depth[2];
      case "gpu_utilisation":
        return utilisation;
      case "predicted_load":
        return predictedLoad();
      default:
        break;
    }
    int dot = name.indexOf('.');
    Tier tier = Tier.parse(name.substring(dot + 1)).orElseThrow(() -> new IllegalArgumentException("signal " + name));
    int t = tier.ordinal();
    if (name.startsWith("depth.")) {
      return depth[t];
    }
    if (name.startsWith("wait_ms.")) {
      return depth[t] > 1e-9 ? waitWeighted[t] / depth[t] : 0;
    }
    throw new IllegalArgumentException("unknown signal " + name);
  }

  /** Every signal and count, for the decision record. */
  Map<String, Double> signals(int target, int desired) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (Tier tier : Tier.values()) {
      out.put("depth." + tier.wireName(), round(depth[tier.ordinal()]));
    }
    out.put("depth.all", round(signal("depth.all")));
    for (Tier tier : Tier.values()) {
      out.put("wait_ms." + tier.wireName(), round(signal("wait_ms." + tier.wireName())));
    }
    out.put("gpu_utilisation", round(utilisation));
    out.put("predicted_load", round(predictedLoad()));
    out.put("demand_workers", round(demandWorkers()));
    out.put("ready", (double) ready);
    out.put("starting", (double) starting);
    out.put("draining", (double) draining);
    out.put("target", (double) target);
    out.put("desired", (double) desired);
    out.put("service_ms", round(serviceSeconds * 1000));
    return out;
  }

  private static double round(double value) {
    return Double.isFinite(value) ? Math.round(value * 1000) / 1000.0 : value;
  }
}
