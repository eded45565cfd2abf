package dev.genmesh.simulator.impl.baselines;

import dev.genmesh.autoscaler.PoolCosts;
import dev.genmesh.config.AutoscalingConfig;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.simulator.SimulationSettings;
import dev.genmesh.simulator.TrafficShape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The workers each pool needs, tick by tick, for a day whose arrival rate is known in advance
 * (the clairvoyant baseline's knowledge): the offered load {@code a} of a pool (requests per second
 * times GPU-seconds per request, each request class on its cheapest allowed pool, the rest spilling
 * to the next cheapest when a pool is full) staffed by the square-root rule {@code ceil(a + headroom
 * * sqrt(a))}, at least the pool's minimum and its share of the tier reservations, and at most the
 * pool and region maximums.
 */
final class KnownDemand {
  private final String[] pools;
  private final int[] poolMin;
  private final int[] poolMax;
  private final int[] reservation;
  private final int regionMin;
  private final int regionMax;
  /** One entry per (class, family) share of the arrivals: its weight and, per pool cheapest first, its seconds there. */
  private final List<Share> shares = new ArrayList<>();
  private final SimulationSettings settings;
  private final TrafficShape traffic;
  private final double headroom;

  /** Per pool, each model family's share of its GPU time (each class on its cheapest pool). */
  private final List<Map<String, Double>> familyTime = new ArrayList<>();

  private record Share(double weight, int[] pools, double[] seconds) {}

  KnownDemand(GenmeshConfig config, SimulationSettings settings, TrafficShape traffic, double headroom) {
    AutoscalingConfig autoscaling = config.autoscaling();
    this.settings = settings;
    this.traffic = traffic;
    this.headroom = headroom;
    pools = autoscaling.pools().keySet().toArray(new String[0]);
    List<String> poolList = List.of(pools);
    poolMin = new int[pools.length];
    poolMax = new int[pools.length];
    for (int p = 0; p < pools.length; p++) {
      poolMin[p] = autoscaling.pools().get(pools[p]).min();
      poolMax[p] = autoscaling.pools().get(pools[p]).max();
    }
    regionMin = autoscaling.minWorkers();
    regionMax = autoscaling.maxWorkers();
    double[] arrivalsShare = new double[pools.length];
    for (int p = 0; p < pools.length; p++) {
      familyTime.add(new java.util.LinkedHashMap<>());
    }
    settings.familyMix().forEach((family, familyShare) ->
        settings.classMix().get(family).forEach((requestClass, classShare) -> {
          List<String> order = PoolCosts.cheapestFirst(config, requestClass);
          int[] indices = order.stream().mapToInt(poolList::indexOf).toArray();
          double[] seconds = new double[indices.length];
          for (int i = 0; i < indices.length; i++) {
            seconds[i] = settings.serviceTimes().seconds(requestClass, family, order.get(i)) * settings.serviceTimeFactor();
          }
          shares.add(new Share(familyShare * classShare, indices, seconds));
          arrivalsShare[indices[0]] += familyShare * classShare;
          familyTime.get(indices[0]).merge(family, familyShare * classShare * seconds[0], Double::sum);
        }));
    for (Map<String, Double> byFamily : familyTime) {
      double total = byFamily.values().stream().mapToDouble(Double::doubleValue).sum();
      byFamily.replaceAll((family, time) -> time / total);
    }
    // Tier reservations spread over the pools by where the arrivals go, as the design policy spreads them.
    long reserved = autoscaling.tierMinimums().values().stream().mapToLong(Long::longValue).sum();
    reservation = new int[pools.length];
    for (int p = 0; p < pools.length; p++) {
      reservation[p] = (int) Math.round(reserved * arrivalsShare[p]);
    }
  }

  String[] pools() {
    return pools;
  }

  /** Each model family's share of the pool's GPU time (empty: the pool is nobody's first choice). */
  Map<String, Double> familyTime(int pool) {
    return familyTime.get(pool);
  }

  /**
   * Workers per pool, per tick from {@code start}: {@link #need} plus, where a pool at its bounds
   * cannot keep up (a spike against the maximums), the workers that drain the backlog this leaves
   * within {@code drainSeconds}. The backlog is a fluid model: GPU-seconds offered minus served.
   */
  int[][] needs(double start, double tick, int ticks, double drainSeconds) {
    int[][] out = new int[pools.length][ticks];
    double[] backlog = new double[pools.length];
    for (int i = 0; i < ticks; i++) {
      double t = start + i * tick;
      double[] load = load(t);
      int[] need = need(t, load);
      int room = regionMax;
      for (int n : need) {
        room -= n;
      }
      for (int p = 0; p < pools.length; p++) {
        int extra = backlog[p] <= 0 ? 0 : (int) Math.ceil(backlog[p] / drainSeconds - 1e-9);
        extra = Math.max(0, Math.min(extra, Math.min(poolMax[p] - need[p], room)));
        room -= extra;
        out[p][i] = need[p] + extra;
        backlog[p] = Math.max(0, backlog[p] + (load[p] - out[p][i]) * tick);
      }
    }
    return out;
  }

  /** Workers per pool (ready ones) needed at {@code t}. */
  int[] need(double t) {
    return need(t, load(t));
  }

  /** Offered load per pool at {@code t} (GPU-seconds per second), a full pool passing the rest on. */
  double[] load(double t) {
    double rate = settings.arrivalRate(traffic, t);
    double[] load = new double[pools.length];
    // Demand in arrivals per second per share and pool, so a full pool can pass the rest on.
    double[][] perShare = new double[shares.size()][];
    for (int s = 0; s < shares.size(); s++) {
      perShare[s] = new double[shares.get(s).pools().length];
      perShare[s][0] = rate * shares.get(s).weight();
      load[shares.get(s).pools()[0]] += perShare[s][0] * shares.get(s).seconds()[0];
    }
    for (int p = 0; p < pools.length; p++) {
      double usable = usableLoad(poolMax[p]);
      if (load[p] <= usable || load[p] == 0) {
        continue;
      }
      double overflow = 1 - usable / load[p];
      for (int s = 0; s < shares.size(); s++) {
        Share share = shares.get(s);
        for (int i = 0; i + 1 < share.pools().length; i++) {
          if (share.pools()[i] == p && perShare[s][i] > 0) {
            double moved = perShare[s][i] * overflow;
            perShare[s][i] -= moved;
            perShare[s][i + 1] += moved;
            load[p] -= moved * share.seconds()[i];
            load[share.pools()[i + 1]] += moved * share.seconds()[i + 1];
          }
        }
      }
    }
    return load;
  }

  private int[] need(double t, double[] load) {
    int[] need = new int[pools.length];
    int total = 0;
    for (int p = 0; p < pools.length; p++) {
      int staffed = load[p] <= 0 ? 0 : (int) Math.ceil(load[p] + headroom * Math.sqrt(load[p]) - 1e-9);
      need[p] = Math.min(poolMax[p], Math.max(staffed, Math.max(poolMin[p], reservation[p])));
      total += need[p];
    }
    // The region's bounds: the largest pools give up workers first, the first pool takes what the minimum adds.
    while (total > regionMax) {
      int largest = 0;
      for (int p = 1; p < pools.length; p++) {
        largest = need[p] - poolMin[p] > need[largest] - poolMin[largest] ? p : largest;
      }
      need[largest]--;
      total--;
    }
    for (int p = 0; total < regionMin && p < pools.length; p++) {
      int add = Math.min(regionMin - total, poolMax[p] - need[p]);
      need[p] += add;
      total += add;
    }
    return need;
  }

  /** The load {@code a} a pool of {@code workers} carries under the staffing rule: a + headroom * sqrt(a) = workers. */
  private double usableLoad(int workers) {
    double root = (-headroom + Math.sqrt(headroom * headroom + 4.0 * workers)) / 2;
    return root * root;
  }
}
