package dev.genmesh.simulator.plan;

import dev.genmesh.autoscaler.PoolCosts;
import dev.genmesh.config.AutoscalingConfig;
import dev.genmesh.config.ConfigException;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.plan.PlanInputs;
import dev.genmesh.config.plan.PlanInputs.Milestone;
import dev.genmesh.simulator.ServiceTimes;
import dev.genmesh.simulator.plan.CapacityPlan.MilestonePlan;
import dev.genmesh.simulator.plan.CapacityPlan.RegionPlan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns the growth table into GPUs, costs and actions (docs/capacity.md). Per region and GPU class:
 *
 * <ul>
 *   <li>each request class goes to its cheapest allowed pool, as the autoscaler sends it
 *       ({@link PoolCosts});
 *   <li>GPUs at the peak = {@code ceil(peak QPS × Σ share × seconds / peak_utilisation)}, at least the
 *       pool's minimum and its share of the tier reservations;
 *   <li>GPU-hours a day = {@code images × Σ share × seconds / 3600 / average_utilisation}, at least
 *       the pool's minimum all day; cost = GPU-hours × {@code gpus.<gpu>.cost_per_hour}.
 * </ul>
 */
public final class CapacityPlanner {
  private final GenmeshConfig config;
  private final PlanInputs inputs;
  private final ServiceTimes times;
  private final String timesSource;

  public CapacityPlanner(GenmeshConfig config, PlanInputs inputs, ServiceTimes times, String timesSource) {
    this.config = config;
    this.inputs = inputs;
    this.times = times;
    this.timesSource = timesSource;
    validate();
  }

  /** Every class of the mix must be routable, and have a service time on its cheapest pool. */
  private void validate() {
    inputs.classMix().forEach((family, classes) -> classes.keySet().forEach(requestClass -> {
      String key = "mix.classes." + family + "." + requestClass;
      if (!config.routing().containsKey(requestClass)) {
        throw new ConfigException(key, "is not a request class of the routing matrix " + config.routing().keySet());
      }
      String pool = PoolCosts.cheapestFirst(config, requestClass).get(0);
      if (Double.isNaN(times.seconds(requestClass, family, pool))) {
        throw new ConfigException(key, "has no service time on " + pool + " (its cheapest pool) for family " + family
            + ": add a line " + ServiceTimes.kind(requestClass, family) + "," + pool + ",SECONDS to service_times_csv");
      }
    }));
  }

  public CapacityPlan plan() {
    List<MilestonePlan> rows = new ArrayList<>();
    Map<String, Integer> previous = null;
    String previousName = null;
    for (Milestone milestone : inputs.milestones().values()) {
      MilestonePlan row = milestone(milestone, previous, previousName);
      rows.add(row);
      previous = row.peakGpus();
      previousName = milestone.name();
    }
    return new CapacityPlan(inputs.source(), timesSource, rows);
  }

  private MilestonePlan milestone(Milestone milestone, Map<String, Integer> previous, String previousName) {
    List<RegionPlan> regions = new ArrayList<>();
    List<String> actions = new ArrayList<>();
    Map<String, Integer> peakGpus = zeroes();
    double cost = 0;
    double staticCost = 0;
    for (Map.Entry<String, Double> share : inputs.regions().entrySet()) {
      RegionPlan region = region(share.getKey(), milestone.peakQps() * share.getValue(),
          Math.round(milestone.dailyImages() * share.getValue()));
      regions.add(region);
      region.peakGpus().forEach((gpu, n) -> peakGpus.merge(gpu, n, Integer::sum));
      cost += region.costPerMonth();
      for (Map.Entry<String, Integer> gpus : region.peakGpus().entrySet()) {
        staticCost += gpus.getValue() * 24 * inputs.daysPerMonth() * config.gpus().get(gpus.getKey()).costPerHour();
      }
      actions.addAll(regionActions(region));
    }
    peakGpus.forEach((gpu, n) -> {
      int before = previous == null ? 0 : previous.getOrDefault(gpu, 0);
      if (n > before) {
        actions.add(previous == null
            ? String.format(Locale.ROOT, "%d %s at the peak over all regions: check the cloud quota for them", n, gpu)
            : String.format(Locale.ROOT, "+%d %s over %s (%d -> %d): raise the cloud quota or reserve them before this"
                + " milestone", n - before, gpu, previousName, before, n));
      }
    });
    milestone.actions().forEach(actions::add);
    double perImage = cost / (milestone.dailyImages() * inputs.daysPerMonth());
    return new MilestonePlan(milestone.name(), milestone.dailyImages(), milestone.peakQps(), regions, peakGpus, cost,
        staticCost, perImage, actions);
  }

  private RegionPlan region(String region, double peakQps, long dailyImages) {
    AutoscalingConfig autoscaling = config.autoscaling();
    Map<String, Double> secondsPerRequest = new LinkedHashMap<>();
    Map<String, Double> arrivals = new LinkedHashMap<>();
    inputs.familyMix().forEach((family, familyShare) -> inputs.classMix().get(family).forEach((requestClass, share) -> {
      String pool = PoolCosts.cheapestFirst(config, requestClass).get(0);
      double weight = familyShare * share;
      secondsPerRequest.merge(pool, weight * times.seconds(requestClass, family, pool), Double::sum);
      arrivals.merge(pool, weight, Double::sum);
    }));
    long reserved = autoscaling.tierMinimums().values().stream().mapToLong(Long::longValue).sum();
    Map<String, Integer> peakGpus = zeroes();
    Map<String, Double> hours = new LinkedHashMap<>();
    double cost = 0;
    for (String gpu : autoscaling.pools().keySet()) {
      int min = autoscaling.pools().get(gpu).min();
      double seconds = secondsPerRequest.getOrDefault(gpu, 0.0);
      int load = (int) Math.ceil(peakQps * seconds / inputs.peakUtilisation() - 1e-9);
      int reservation = (int) Math.round(reserved * arrivals.getOrDefault(gpu, 0.0));
      peakGpus.put(gpu, Math.max(load, Math.max(min, reservation)));
      double perDay = Math.max(dailyImages * seconds / 3600 / inputs.averageUtilisation(), 24.0 * min);
      hours.put(gpu, perDay);
      cost += perDay * config.gpus().get(gpu).costPerHour() * inputs.daysPerMonth();
    }
    return new RegionPlan(region, peakQps, dailyImages, peakGpus, hours, cost);
  }

  private List<String> regionActions(RegionPlan region) {
    AutoscalingConfig autoscaling = config.autoscaling();
    List<String> actions = new ArrayList<>();
    String r = region.region();
    if (!config.regions().containsKey(r)) {
      actions.add("add region " + r + ": a regions." + r + " section in the config, its stores and its DNS entry");
    }
    if (region.totalPeakGpus() > autoscaling.maxWorkers()) {
      actions.add(String.format(Locale.ROOT, "%s: raise autoscaling.max_workers from %d to %d, or move traffic to"
          + " another region", r, autoscaling.maxWorkers(), region.totalPeakGpus()));
    }
    region.peakGpus().forEach((gpu, n) -> {
      int max = autoscaling.pools().get(gpu).max();
      if (n > max) {
        actions.add(String.format(Locale.ROOT, "%s: raise autoscaling.pools.%s.max from %d to %d (else the rest"
            + " spills to a dearer pool)", r, gpu, max, n));
      }
    });
    double configured = autoscaling.forecast().peakQps();
    if (Math.abs(region.peakQps() - configured) > 0.1 * configured) {
      actions.add(String.format(Locale.ROOT, "%s: set autoscaling.forecast.peak_qps from %.0f to %.0f (the schedule's"
          + " 100 %%, used until the forecast has learned the new traffic)", r, configured, region.peakQps()));
    }
    return actions;
  }

  private Map<String, Integer> zeroes() {
    Map<String, Integer> out = new LinkedHashMap<>();
    config.autoscaling().pools().keySet().forEach(gpu -> out.put(gpu, 0));
    return out;
  }
}
