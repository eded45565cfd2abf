package dev.genmesh.simulator.impl;

import dev.genmesh.autoscaler.PoolCosts;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.Tier;
import dev.genmesh.simulator.SimulationSettings;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What does not change during a run, as indices for speed: pools and prices, request classes and
 * model families, which pools the routing matrix allows per class, generation times, the mixes
 * arrivals are drawn from, and each tier's wait target.
 */
final class RegionLayout {
  static final int TIERS = Tier.values().length;

  final String[] pools;
  final Map<String, Integer> poolIndex = new HashMap<>();
  final double[] pricePerHour;
  final String[] classes;
  final String[] families;
  /** class → pools allowed by the routing matrix, preferred first. */
  final int[][] eligible;
  /** pool → classes it may serve. */
  final int[][] poolClasses;
  /** [class][family][pool] mean seconds; NaN where not allowed. */
  final double[][][] serviceSeconds;
  /** pool → the family a new worker loads when the plan names none. */
  final int[] defaultFamily;
  final double[] tierCumulative = new double[TIERS];
  final double[] familyCumulative;
  final double[][] classCumulative;
  final int[][] familyClasses;
  final double[] tierTargetSeconds = new double[TIERS];

  RegionLayout(GenmeshConfig config, SimulationSettings settings) {
    pools = config.autoscaling().pools().keySet().toArray(new String[0]);
    pricePerHour = new double[pools.length];
    for (int p = 0; p < pools.length; p++) {
      poolIndex.put(pools[p], p);
      pricePerHour[p] = config.gpus().get(pools[p]).costPerHour();
    }
    families = settings.familyMix().keySet().toArray(new String[0]);
    classes = settings.classMix().values().stream().flatMap(m -> m.keySet().stream()).distinct().toArray(String[]::new);

    eligible = new int[classes.length][];
    serviceSeconds = new double[classes.length][families.length][pools.length];
    for (int c = 0; c < classes.length; c++) {
      List<String> allowed = config.routing().getOrDefault(classes[c], List.of(pools));
      eligible[c] = allowed.stream().filter(poolIndex::containsKey).mapToInt(poolIndex::get).toArray();
      for (int f = 0; f < families.length; f++) {
        for (int p = 0; p < pools.length; p++) {
          serviceSeconds[c][f][p] = allowed.contains(pools[p])
              ? settings.serviceTimes().seconds(classes[c], families[f], pools[p]) * settings.serviceTimeFactor()
              : Double.NaN;
        }
      }
    }
    poolClasses = new int[pools.length][];
    defaultFamily = new int[pools.length];
    for (int p = 0; p < pools.length; p++) {
      List<Integer> served = new ArrayList<>();
      for (int c = 0; c < classes.length; c++) {
        for (int e : eligible[c]) {
          if (e == p) {
            served.add(c);
          }
        }
      }
      poolClasses[p] = served.stream().mapToInt(Integer::intValue).toArray();
      defaultFamily[p] = defaultFamily(config, settings, p, served);
    }

    double cumulative = 0;
    for (Tier tier : Tier.values()) {
      cumulative += settings.tierMix().getOrDefault(tier.wireName(), 0.0);
      tierCumulative[tier.ordinal()] = cumulative;
      tierTargetSeconds[tier.ordinal()] = config.autoscaling().waitTargetMs(tier.wireName()) / 1000.0;
    }
    familyCumulative = new double[families.length];
    classCumulative = new double[families.length][];
    familyClasses = new int[families.length][];
    cumulative = 0;
    for (int f = 0; f < families.length; f++) {
      cumulative += settings.familyMix().get(families[f]);
      familyCumulative[f] = cumulative;
      Map<String, Double> mix = settings.classMix().get(families[f]);
      classCumulative[f] = new double[mix.size()];
      familyClasses[f] = new int[mix.size()];
      double c = 0;
      int i = 0;
      for (Map.Entry<String, Double> entry : mix.entrySet()) {
        c += entry.getValue();
        classCumulative[f][i] = c;
        familyClasses[f][i] = classIndex(entry.getKey());
        for (int p : eligible[familyClasses[f][i]]) {
          if (Double.isNaN(serviceSeconds[familyClasses[f][i]][f][p])) {
            throw new IllegalArgumentException("no service time for " + entry.getKey() + "/" + families[f] + " on "
                + pools[p] + ", which the routing matrix allows");
          }
        }
        i++;
      }
    }
  }

  int classIndex(String requestClass) {
    return Arrays.asList(classes).indexOf(requestClass);
  }

  int familyIndex(String family) {
    return Arrays.asList(families).indexOf(family);
  }

  /** A family with a class that is cheapest on this pool; else any family the pool can serve. */
  private int defaultFamily(GenmeshConfig config, SimulationSettings settings, int pool, List<Integer> served) {
    int fallback = -1;
    for (int f = 0; f < families.length; f++) {
      for (String requestClass : settings.classMix().get(families[f]).keySet()) {
        if (!served.contains(classIndex(requestClass))) {
          continue;
        }
        if (PoolCosts.cheapestFirst(config, requestClass).get(0).equals(pools[pool])) {
          return f;
        }
        fallback = fallback < 0 ? f : fallback;
      }
    }
    return Math.max(0, fallback);
  }
}
