package dev.genmesh.simulator.plan;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code genmesh plan} answers: per milestone of the growth table, per region and GPU class,
 * the GPUs the peak needs and the GPU-hours a day under the autoscaler, their cost per month and
 * per image, and what to do before the milestone. docs/capacity.md explains each figure.
 *
 * @param serviceTimes where the per-GPU service times came from
 */
public record CapacityPlan(String inputs, String serviceTimes, List<MilestonePlan> milestones) {

  /**
   * One milestone.
   *
   * @param peakGpus per GPU class, all regions: GPUs running at the peak
   * @param costPerMonth under the autoscaler (GPU-hours a day at the average utilisation)
   * @param staticCostPerMonth the peak fleet kept all month, for comparison
   */
  public record MilestonePlan(String name, long dailyImages, double peakQps, List<RegionPlan> regions,
      Map<String, Integer> peakGpus, double costPerMonth, double staticCostPerMonth, double costPerImage,
      List<String> actions) {}

  /**
   * One region at one milestone.
   *
   * @param peakGpus per GPU class: {@code ceil(peak load / peak_utilisation)}, at least the pool's
   *     minimum and its share of the tier reservations
   * @param gpuHoursPerDay per GPU class: the day's GPU time at the average utilisation, at least the
   *     pool's minimum all day
   */
  public record RegionPlan(String region, double peakQps, long dailyImages, Map<String, Integer> peakGpus,
      Map<String, Double> gpuHoursPerDay, double costPerMonth) {
    public int totalPeakGpus() {
      return peakGpus.values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  /** The readable table: one line per milestone and region, a total per milestone, then the actions. */
  public String table() {
    StringBuilder out = new StringBuilder();
    out.append("genmesh plan: ").append(inputs).append("; service times: ").append(serviceTimes).append("\n\n");
    List<String> gpus = milestones.isEmpty() ? List.of() : List.copyOf(milestones.get(0).peakGpus().keySet());
    out.append("| milestone | region | images/day | peak QPS |");
    gpus.forEach(gpu -> out.append(' ').append(gpu).append(" |"));
    out.append(" GPUs at peak | cost/month | cost/month static | $/1000 images |\n|---|---|---:|---:|");
    gpus.forEach(gpu -> out.append("---:|"));
    out.append("---:|---:|---:|---:|\n");
    for (MilestonePlan m : milestones) {
      for (RegionPlan r : m.regions()) {
        out.append(String.format(Locale.ROOT, "| %s | %s | %,d | %.1f |", m.name(), r.region(), r.dailyImages(),
            r.peakQps()));
        gpus.forEach(gpu -> out.append(' ').append(r.peakGpus().getOrDefault(gpu, 0)).append(" |"));
        out.append(String.format(Locale.ROOT, " %d | $%,.0f | | |%n", r.totalPeakGpus(), r.costPerMonth()));
      }
      out.append(String.format(Locale.ROOT, "| **%s** | **all** | %,d | %.1f |", m.name(), m.dailyImages(), m.peakQps()));
      gpus.forEach(gpu -> out.append(' ').append(m.peakGpus().getOrDefault(gpu, 0)).append(" |"));
      out.append(String.format(Locale.ROOT, " %d | $%,.0f | $%,.0f | $%.3f |%n",
          m.peakGpus().values().stream().mapToInt(Integer::intValue).sum(), m.costPerMonth(), m.staticCostPerMonth(),
          1000 * m.costPerImage()));
    }
    for (MilestonePlan m : milestones) {
      out.append("\nActions for ").append(m.name()).append(":\n");
      if (m.actions().isEmpty()) {
        out.append("* none\n");
      }
      m.actions().forEach(action -> out.append("* ").append(action).append('\n'));
    }
    return out.toString();
  }

  public JsonObject toJson() {
    JsonArray rows = new JsonArray();
    for (MilestonePlan m : milestones) {
      JsonArray regions = new JsonArray();
      for (RegionPlan r : m.regions()) {
        regions.add(new JsonObject().put("region", r.region()).put("peak_qps", r.peakQps())
            .put("daily_images", r.dailyImages()).put("peak_gpus", new JsonObject(Map.copyOf(r.peakGpus())))
            .put("gpu_hours_per_day", new JsonObject(Map.copyOf(r.gpuHoursPerDay())))
            .put("cost_per_month", r.costPerMonth()));
      }
      rows.add(new JsonObject().put("name", m.name()).put("daily_images", m.dailyImages()).put("peak_qps", m.peakQps())
          .put("regions", regions).put("peak_gpus", new JsonObject(Map.copyOf(m.peakGpus())))
          .put("cost_per_month", m.costPerMonth()).put("static_cost_per_month", m.staticCostPerMonth())
          .put("cost_per_image", m.costPerImage()).put("actions", new JsonArray(m.actions())));
    }
    return new JsonObject().put("inputs", inputs).put("service_times", serviceTimes).put("milestones", rows);
  }
}
