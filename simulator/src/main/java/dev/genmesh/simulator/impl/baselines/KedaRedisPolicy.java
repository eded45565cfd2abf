package dev.genmesh.simulator.impl.baselines;

import dev.genmesh.autoscaler.ModelPlanner;
import dev.genmesh.autoscaler.ScalePlan;
import dev.genmesh.autoscaler.ScalingObservation.PoolState;
import dev.genmesh.autoscaler.ScalingObservation;
import dev.genmesh.autoscaler.ScalingPolicy;
import dev.genmesh.config.AutoscalingConfig;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.scaling.ScalingDecision;
import dev.genmesh.simulator.impl.CheapestPools;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reactive baseline a user would pick: one KEDA {@code ScaledObject} per pool Deployment with
 * one {@code redis} (Redis Lists) trigger per tier list the pool's workers take from, configured
 * as KEDA's docs configure it (keda.sh/docs/latest/scalers/redis-lists and
 * keda.sh/docs/latest/reference/scaledobject-spec):
 *
 * <ul>
 *   <li>{@code listLength}: the target list length per replica (an {@code AverageValue} target), so
 *       each trigger asks for {@code ceil(length / listLength)} replicas, and the HPA takes the
 *       largest; 10 % tolerance around the current count;
 *   <li>{@code pollingInterval: 30} (the default): the lists are read every 30 s;
 *   <li>{@code cooldownPeriod: 300} (the default): only used to go from 1 to 0 replicas, after 300 s
 *       of empty lists, for a pool whose {@code minReplicaCount} is 0;
 *   <li>the HPA's default behaviour: up at once by at most +100 % or +4 pods per 15 s, down to the
 *       highest recommendation of the last 300 s (the stabilisation window);
 *   <li>{@code minReplicaCount} / {@code maxReplicaCount}: the pool's bounds; the region's 200 is the
 *       cluster's limit.
 * </ul>
 *
 * A Redis list holds waiting requests only (running ones are not in it). No forecast, no tiers'
 * wait targets, no region minimum.
 */
public final class KedaRedisPolicy implements ScalingPolicy {
  public static final long POLLING_INTERVAL_MS = 30_000;
  public static final long COOLDOWN_PERIOD_MS = 300_000;
  static final double TOLERANCE = 0.1;
  static final long HPA_SYNC_MS = 15_000;
  static final long DOWN_STABILISATION_MS = 300_000;

  private final AutoscalingConfig config;
  private final Clock clock;
  private final CheapestPools cheapest;
  private final ModelPlanner planner;
  private final double listLength;
  private final Map<String, Integer> targets = new LinkedHashMap<>();
  private final Map<String, ArrayDeque<long[]>> recommendations = new HashMap<>();
  private final Map<String, Long> lastActive = new HashMap<>();
  private long lastPoll = Long.MIN_VALUE;

  public KedaRedisPolicy(GenmeshConfig genmesh, Clock clock, double listLength) {
    if (!(listLength > 0)) {
      throw new IllegalArgumentException("listLength must be positive, got " + listLength);
    }
    this.config = genmesh.autoscaling();
    this.clock = clock;
    this.cheapest = new CheapestPools(genmesh);
    this.planner = new ModelPlanner(config);
    this.listLength = listLength;
  }

  public double listLength() {
    return listLength;
  }

  @Override
  public List<ScalingDecision> evaluate(ScalingObservation observation) {
    long now = clock.instant().toEpochMilli();
    int total = 0;
    for (String pool : config.pools().keySet()) {
      PoolState state = observation.pools().get(pool);
      targets.putIfAbsent(pool, state == null ? 0 : state.live());
      total += targets.get(pool);
    }
    if (lastPoll != Long.MIN_VALUE && now - lastPoll < POLLING_INTERVAL_MS) {
      return List.of();
    }
    lastPoll = now;
    // LLEN of each tier's list, per pool: the waiting requests of the classes the pool takes.
    Map<String, long[]> lists = new HashMap<>();
    observation.queues().forEach((requestClass, tiers) -> tiers.forEach((tier, stat) ->
        lists.computeIfAbsent(cheapest.poolOf(requestClass), k -> new long[Tier.values().length])[tier.ordinal()]
            += stat.depth()));
    List<ScalingDecision> out = new ArrayList<>();
    for (String pool : config.pools().keySet()) {
      int current = targets.get(pool);
      long[] lengths = lists.getOrDefault(pool, new long[Tier.values().length]);
      long longest = 0;
      int recommended = 0;
      for (long length : lengths) {
        longest = Math.max(longest, length);
        recommended = Math.max(recommended, replicasFor(length, current));
      }
      AutoscalingConfig.PoolBounds bounds = config.pools().get(pool);
      int to = hpa(pool, now, current, Math.max(recommended, Math.max(bounds.min(), 1)), bounds.max());
      if (bounds.min() == 0) { // KEDA deactivates to 0 after cooldownPeriod of empty lists, and activates at once
        if (longest > 0) {
          lastActive.put(pool, now);
        } else if (now - lastActive.getOrDefault(pool, Long.MIN_VALUE / 2) >= COOLDOWN_PERIOD_MS) {
          to = 0;
        }
      }
      if (to > current) {
        to = Math.min(to, current + Math.max(0, config.maxWorkers() - total));
      }
      if (to != current) {
        PoolState state = observation.pools().get(pool);
        ScalePlan plan = planner.plan(current, to, state == null ? Map.of() : state.loadedModels(),
            cheapest.classesOf(pool));
        out.add(new ScalingDecision(Instant.ofEpochMilli(now), "sim", pool, current, to, "keda_redis",
            ScalingDecision.DRIVER_TRIGGER, "list_length", longest, listLength, 0, Map.of(), null, plan.warmModels(),
            plan.drainModels()));
        total += to - current;
        targets.put(pool, to);
      }
    }
    return out;
  }

  /** One trigger's replicas: {@code ceil(length / listLength)}, or the current count within the 10 % tolerance. */
  int replicasFor(long length, int current) {
    double wanted = length / listLength;
    if (current > 0 && Math.abs(wanted / current - 1) <= TOLERANCE) {
      return current;
    }
    return (int) Math.ceil(wanted - 1e-9);
  }

  /**
   * The HPA's default behaviour between two polls (one poll is two 15 s syncs with the same
   * metric): up by at most max(+100 %, +4) per sync; down to the largest recommendation of the
   * last 300 s.
   */
  private int hpa(String pool, long now, int current, int recommended, int max) {
    ArrayDeque<long[]> history = recommendations.computeIfAbsent(pool, k -> new ArrayDeque<>());
    history.addLast(new long[] {now, recommended});
    while (history.peekFirst()[0] <= now - DOWN_STABILISATION_MS) {
      history.removeFirst();
    }
    int to = current;
    if (recommended > current) {
      for (long synced = 0; synced < POLLING_INTERVAL_MS; synced += HPA_SYNC_MS) {
        to = Math.min(recommended, Math.max(2 * to, to + 4));
      }
    } else {
      to = (int) Math.min(current, history.stream().mapToLong(r -> r[1]).max().orElse(current));
    }
    return Math.min(max, to);
  }

  @Override
  public Map<String, Integer> targets() {
    return targets;
  }
}
