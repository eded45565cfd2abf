package dev.genmesh.simulator.impl.baselines;

import dev.genmesh.autoscaler.ModelPlanner;
import dev.genmesh.autoscaler.ScalePlan;
import dev.genmesh.autoscaler.ScalingObservation.PoolState;
import dev.genmesh.autoscaler.ScalingObservation;
import dev.genmesh.autoscaler.ScalingPolicy;
import dev.genmesh.config.AutoscalingConfig;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.scaling.ScalingDecision;
import dev.genmesh.simulator.SimulationSettings;
import dev.genmesh.simulator.TrafficShape;
import dev.genmesh.simulator.impl.CheapestPools;
import dev.genmesh.simulator.impl.SimClock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The clairvoyant baseline: it knows the day's arrival rate in advance (not the individual
 * arrivals) and obeys the design policy's constraints: pool and region bounds, tier reservations,
 * steps (+{@code step_up} / -{@code step_down}), cooldowns (120 s between scale-ups, 300 s after any
 * change before a scale-down) and cold starts. docs/autoscaling.md, "The clairvoyant baseline".
 *
 * <ol>
 *   <li>{@link KnownDemand} gives each pool's need per tick from the known rate (square-root staffing
 *       with a headroom {@code β}), plus what drains a backlog that the bounds leave (a fluid model).
 *   <li>Warm-up ahead: the target at {@code t} is the largest need over {@code [t, t + 1.2 ×
 *       cold_start]}, the slowest start, so a worker asked for now is ready when the need comes.
 *   <li>Steps: going backwards in time, the target at {@code t} is at least the target one up-cooldown
 *       later minus one step, so a rise steeper than the steps allow starts early enough.
 *   <li>It then follows that plan as closely as the cooldowns and steps let it, up or down; at its
 *       first evaluation (the start of the unbilled warm-up) it sets the plan's fleet at once.
 * </ol>
 *
 * {@link dev.genmesh.simulator.Simulator} searches the smallest {@code β} with which every tier meets
 * its target: the cheapest plan of this kind that a perfect forecast allows.
 */
public final class ClairvoyantPolicy implements ScalingPolicy {
  private final AutoscalingConfig config;
  private final SimClock clock;
  private final ModelPlanner planner;
  private final CheapestPools cheapest;
  private final String[] pools;
  private final double start;
  private final double tick;
  private final double headroom;
  /** [pool][tick]: the planned target. */
  private final int[][] plan;
  private final Map<String, Integer> targets = new LinkedHashMap<>();
  private final List<Map<String, Double>> familyTime = new ArrayList<>();
  private final double[] lastUp;
  private final double[] lastChange;
  private boolean started;

  public ClairvoyantPolicy(GenmeshConfig genmesh, SimulationSettings settings, TrafficShape traffic, SimClock clock,
      double start, double end, double headroom) {
    this.config = genmesh.autoscaling();
    this.clock = clock;
    this.planner = new ModelPlanner(config);
    this.cheapest = new CheapestPools(genmesh);
    this.start = start;
    this.tick = config.evaluationIntervalMs() / 1000.0;
    this.headroom = headroom;
    KnownDemand demand = new KnownDemand(genmesh, settings, traffic, headroom);
    this.pools = demand.pools();
    for (int p = 0; p < pools.length; p++) {
      familyTime.add(demand.familyTime(p));
    }
    int ticks = (int) Math.ceil((end - start) / tick) + 1;
    // A backlog the bounds leave (a spike) drains within half the fast tier's target, as the design policy drains it.
    int[][] need = demand.needs(start, tick, ticks, config.waitTargetMs("fast") / 2000.0);
    int lead = (int) Math.ceil(1.2 * settings.coldStartMs() / 1000.0 / tick) + 1;
    int upCooldown = (int) Math.ceil(config.cooldownUpMs() / 1000.0 / tick);
    plan = new int[pools.length][ticks];
    for (int p = 0; p < pools.length; p++) {
      for (int i = 0; i < ticks; i++) {
        int most = 0;
        for (int j = i; j < Math.min(ticks, i + lead + 1); j++) {
          most = Math.max(most, need[p][j]);
        }
        plan[p][i] = most;
      }
      for (int i = ticks - 1 - upCooldown; i >= 0; i--) {
        plan[p][i] = Math.max(plan[p][i], plan[p][i + upCooldown] - config.stepUp());
      }
    }
    lastUp = new double[pools.length];
    lastChange = new double[pools.length];
    java.util.Arrays.fill(lastUp, Double.NEGATIVE_INFINITY);
    java.util.Arrays.fill(lastChange, Double.NEGATIVE_INFINITY);
  }

  private int index(double t) {
    return Math.max(0, Math.min(plan[0].length - 1, (int) Math.round((t - start) / tick)));
  }

  @Override
  public List<ScalingDecision> evaluate(ScalingObservation observation) {
    Instant time = clock.instant();
    double now = seconds(time);
    int i = index(now);
    List<ScalingDecision> out = new ArrayList<>();
    int total = 0;
    for (int p = 0; p < pools.length; p++) {
      PoolState state = observation.pools().get(pools[p]);
      targets.putIfAbsent(pools[p], state == null ? 0 : state.live());
      total += targets.get(pools[p]);
    }
    for (int p = 0; p < pools.length; p++) {
      int current = targets.get(pools[p]);
      int want = plan[p][i];
      AutoscalingConfig.PoolBounds bounds = config.pools().get(pools[p]);
      int to = current;
      if (!started) {
        to = Math.max(bounds.min(), want); // it knew the day was coming: the fleet is there when the run starts
      } else if (current < bounds.min()) {
        to = bounds.min(); // a constraint holds at once, as in the design policy
      } else if (want > current && now - lastUp[p] >= config.cooldownUpMs() / 1000.0) {
        to = Math.min(want, current + config.stepUp());
      } else if (want < current && now - lastChange[p] >= config.cooldownDownMs() / 1000.0) {
        to = Math.max(want, current - config.stepDown());
      }
      to = Math.min(to, Math.max(current, current + config.maxWorkers() - total));
      if (to == current) {
        continue;
      }
      PoolState state = observation.pools().get(pools[p]);
      ScalePlan models = familyTime.get(p).isEmpty()
          ? planner.plan(current, to, state == null ? Map.of() : state.loadedModels(), cheapest.classesOf(pools[p]))
          : byGpuTime(familyTime.get(p), current, to, state == null ? Map.of() : state.loadedModels());
      out.add(new ScalingDecision(time, "sim", pools[p], current, to, "clairvoyant", ScalingDecision.DRIVER_FORECAST,
          "known_demand", want, headroom, 0, Map.of(), null, models.warmModels(), models.drainModels()));
      if (to > current) {
        lastUp[p] = now;
      }
      lastChange[p] = now;
      total += to - current;
      targets.put(pools[p], to);
    }
    started = true;
    return out;
  }

  /**
   * The models new workers load, or the order to drain them, by each family's share of the pool's
   * GPU time (which it knows), rather than {@code model_mix}'s share of workers.
   */
  static ScalePlan byGpuTime(Map<String, Double> shares, int from, int to, Map<String, Integer> loaded) {
    Map<String, Integer> counts = new HashMap<>();
    shares.keySet().forEach(family -> counts.put(family, loaded.getOrDefault(family, 0)));
    int size = counts.values().stream().mapToInt(Integer::intValue).sum();
    if (to > from) {
      Map<String, Integer> warm = new LinkedHashMap<>();
      for (int k = 0; k < to - from; k++) {
        int next = ++size;
        String family = shares.keySet().stream()
            .max(Comparator.comparingDouble((String f) -> shares.get(f) * next - counts.get(f))).orElseThrow();
        counts.merge(family, 1, Integer::sum);
        warm.merge(family, 1, Integer::sum);
      }
      return new ScalePlan(warm, List.of());
    }
    double total = Math.max(1, size);
    List<String> drain = new ArrayList<>(loaded.keySet());
    drain.sort(Comparator.comparingDouble((String f) -> -(loaded.get(f) / total - shares.getOrDefault(f, 0.0))));
    return new ScalePlan(Map.of(), drain);
  }

  private double seconds(Instant time) {
    return (time.toEpochMilli() - clock.at(0).toEpochMilli()) / 1000.0;
  }

  @Override
  public Map<String, Integer> targets() {
    return targets;
  }
}
