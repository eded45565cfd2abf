package dev.genmesh.simulator;

import dev.genmesh.protocol.scaling.ScalingDecision;
import java.util.List;
import java.util.Map;

/**
 * One scenario under one fleet policy: the day's cost, each tier's waits, the timeline (one row
 * per simulated minute) and the decisions taken.
 *
 * @param gpuHours per pool, GPU-hours billed during the day (starting, ready and draining workers)
 * @param cost dollars for the day
 * @param modelSwaps times a worker loaded another model family to serve a request
 * @param tuning how a baseline was tuned (the clairvoyant's headroom, KEDA's listLength); empty for the others
 */
public record RunResult(
    String scenario,
    PolicyKind policy,
    Map<String, Double> gpuHours,
    double cost,
    List<TierOutcome> tiers,
    List<TimelineRow> timeline,
    List<ScalingDecision> decisions,
    long requests,
    long modelSwaps,
    long wallMillis,
    String tuning) {

  public double totalGpuHours() {
    return gpuHours.values().stream().mapToDouble(Double::doubleValue).sum();
  }

  /** Every tier within its wait target for at least {@code share} of its requests. */
  public boolean meetsTargets(double share) {
    return tiers.stream().allMatch(t -> t.shareWithinTarget() >= share);
  }

  public RunResult withTuning(String note) {
    return new RunResult(scenario, policy, gpuHours, cost, tiers, timeline, decisions, requests, modelSwaps, wallMillis, note);
  }

  public TierOutcome tier(String name) {
    return tiers.stream().filter(t -> t.tier().equals(name)).findFirst().orElseThrow();
  }

  /**
   * One simulated minute.
   *
   * @param workers per pool, billed workers at the end of the minute
   * @param depth per tier (turbo, fast, relax), requests waiting at the end of the minute
   * @param meanWaitS per tier, mean wait of the requests dispatched in the minute (NaN: none)
   * @param maxWaitS per tier, the longest of those waits
   */
  public record TimelineRow(double minute, double arrivalsQps, int[] workers, int[] depth, double[] meanWaitS,
      double[] maxWaitS, double costPerHour) {}
}
