package dev.genmesh.simulator.impl.baselines;

import dev.genmesh.autoscaler.ModelPlanner;
import dev.genmesh.autoscaler.ScalePlan;
import dev.genmesh.autoscaler.ScalingObservation;
import dev.genmesh.autoscaler.ScalingPolicy;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.scaling.ScalingDecision;
import dev.genmesh.simulator.impl.CheapestPools;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The static fleet: sets every pool once, its models in the mix's proportions, and never changes. */
public final class StaticPolicy implements ScalingPolicy {
  private final Map<String, Integer> fleet;
  private final Clock clock;
  private final ModelPlanner planner;
  private final CheapestPools cheapest;
  private final Map<String, Integer> targets = new LinkedHashMap<>();

  public StaticPolicy(GenmeshConfig config, Map<String, Integer> fleet, Clock clock) {
    this.fleet = fleet;
    this.clock = clock;
    this.planner = new ModelPlanner(config.autoscaling());
    this.cheapest = new CheapestPools(config);
  }

  @Override
  public List<ScalingDecision> evaluate(ScalingObservation observation) {
    if (!targets.isEmpty()) {
      return List.of();
    }
    List<ScalingDecision> out = new ArrayList<>();
    fleet.forEach((pool, count) -> {
      ScalePlan plan = planner.plan(0, count, Map.of(), cheapest.classesOf(pool));
      out.add(new ScalingDecision(clock.instant(), "sim", pool, 0, count, "static", ScalingDecision.DRIVER_CONSTRAINT,
          null, Double.NaN, Double.NaN, 0, Map.of(), null, plan.warmModels(), List.of()));
      targets.put(pool, count);
    });
    return out;
  }

  @Override
  public Map<String, Integer> targets() {
    return targets;
  }
}
