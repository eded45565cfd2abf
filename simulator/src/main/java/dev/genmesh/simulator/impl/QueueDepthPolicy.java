package dev.genmesh.simulator.impl;

import dev.genmesh.autoscaler.ModelPlanner;
import dev.genmesh.autoscaler.ScalePlan;
import dev.genmesh.autoscaler.ScalingObservation.PoolState;
import dev.genmesh.autoscaler.ScalingObservation;
import dev.genmesh.autoscaler.ScalingPolicy;
import dev.genmesh.config.AutoscalingConfig;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.scaling.ScalingDecision;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The baseline "simple reactive policy": one Kubernetes HPA per pool on one metric, requests
 * outstanding (waiting in the queues of the classes this pool is cheapest for, plus running) per
 * worker, target 1, with HPA's defaults: 10 % tolerance; up at most +100 % or +4 per step, at once;
 * down to the highest recommendation of the last 5 minutes (the stabilisation window). Pool
 * minimums and maximums are its minReplicas / maxReplicas; the region's 200 cap is a cluster
 * limit. No forecast, no tiers, no region minimum.
 */
final class QueueDepthPolicy implements ScalingPolicy {
  private static final double TARGET_PER_WORKER = 1.0;
  private static final double TOLERANCE = 0.1;
  private static final long STABILISATION_MS = 300_000;

  private final AutoscalingConfig config;
  private final Clock clock;
  private final CheapestPools cheapest;
  private final ModelPlanner planner;
  private final Map<String, Integer> targets = new LinkedHashMap<>();
  private final Map<String, ArrayDeque<long[]>> recommendations = new HashMap<>();

  QueueDepthPolicy(GenmeshConfig genmesh, Clock clock) {
    this.config = genmesh.autoscaling();
    this.clock = clock;
    this.cheapest = new CheapestPools(genmesh);
    this.planner = new ModelPlanner(config);
  }

  @Override
  public List<ScalingDecision> evaluate(ScalingObservation observation) {
    Instant now = clock.instant();
    Map<String, Double> waiting = new HashMap<>();
    observation.queues().forEach((requestClass, tiers) -> tiers.values().forEach(stat ->
        waiting.merge(cheapest.poolOf(requestClass), (double) stat.depth(), Double::sum)));
    List<ScalingDecision> out = new ArrayList<>();
    int total = 0;
    for (String pool : config.pools().keySet()) {
      PoolState state = observation.pools().get(pool);
      targets.putIfAbsent(pool, state == null ? 0 : state.live());
      total += targets.get(pool);
    }
    for (String pool : config.pools().keySet()) {
      PoolState state = observation.pools().get(pool);
      int current = targets.get(pool);
      double running = state == null || Double.isNaN(state.utilisation()) ? 0 : state.utilisation() * state.ready();
      double outstanding = waiting.getOrDefault(pool, 0.0) + running;
      int recommended = (int) Math.ceil(outstanding / TARGET_PER_WORKER - 1e-9);
      if (current > 0 && Math.abs(outstanding / TARGET_PER_WORKER / current - 1) <= TOLERANCE) {
        recommended = current;
      }
      ArrayDeque<long[]> history = recommendations.computeIfAbsent(pool, k -> new ArrayDeque<>());
      history.addLast(new long[] {now.toEpochMilli(), recommended});
      while (history.peekFirst()[0] < now.toEpochMilli() - STABILISATION_MS) {
        history.removeFirst();
      }
      int to;
      if (recommended > current) {
        to = Math.min(recommended, Math.max(2 * current, current + 4));
      } else {
        to = (int) Math.min(current, history.stream().mapToLong(r -> r[1]).max().orElse(current));
      }
      AutoscalingConfig.PoolBounds bounds = config.pools().get(pool);
      to = Math.max(bounds.min(), Math.min(bounds.max(), to));
      if (to > current) {
        to = Math.min(to, current + Math.max(0, config.maxWorkers() - total));
      }
      if (to != current) {
        ScalePlan plan = planner.plan(current, to, state == null ? Map.of() : state.loadedModels(), cheapest.classesOf(pool));
        out.add(new ScalingDecision(now, "sim", pool, current, to, "queue_depth", ScalingDecision.DRIVER_TRIGGER,
            "outstanding_per_worker", outstanding / Math.max(1, current), TARGET_PER_WORKER, 0, Map.of(), null,
            plan.warmModels(), plan.drainModels()));
        total += to - current;
        targets.put(pool, to);
      }
    }
    return out;
  }

  @Override
  public Map<String, Integer> targets() {
    return targets;
  }
}
