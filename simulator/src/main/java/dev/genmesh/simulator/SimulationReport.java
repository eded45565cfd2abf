package dev.genmesh.simulator;

import dev.genmesh.protocol.scaling.ScalingDecision;
import dev.genmesh.simulator.RunResult.TimelineRow;
import dev.genmesh.simulator.impl.SvgChart;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes what a simulation found: per run a timeline CSV (one row per minute), per scenario the
 * autoscaled run's decisions (CSV) and a chart (SVG), and {@code summary.md} with the table.
 */
public final class SimulationReport {
  private static final String[] TIERS = {"turbo", "fast", "relax"};

  private SimulationReport() {}

  /** Writes every file into {@code dir}; answers the summary table (Markdown). */
  public static String write(Path dir, List<RunResult> results, String header) {
    try {
      Files.createDirectories(dir);
      Map<String, List<RunResult>> byScenario = new LinkedHashMap<>();
      results.forEach(r -> byScenario.computeIfAbsent(r.scenario(), k -> new ArrayList<>()).add(r));
      for (RunResult run : results) {
        Files.writeString(dir.resolve(run.scenario() + "-" + run.policy().wireName() + ".csv"), timelineCsv(run));
        if (run.policy() == PolicyKind.DESIGN) {
          Files.writeString(dir.resolve(run.scenario() + "-decisions.csv"), decisionsCsv(run.decisions()));
        }
      }
      for (Map.Entry<String, List<RunResult>> scenario : byScenario.entrySet()) {
        double[] targets = new double[TIERS.length];
        RunResult any = scenario.getValue().get(0);
        for (int t = 0; t < TIERS.length; t++) {
          targets[t] = any.tier(TIERS[t]).targetMs() / 1000.0;
        }
        Files.writeString(dir.resolve(scenario.getKey() + ".svg"),
            SvgChart.render("genmesh simulate: " + scenario.getKey(), scenario.getValue(), targets));
      }
      String table = summaryTable(results);
      Files.writeString(dir.resolve("summary.md"), header + "\n\n" + table);
      return table;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the simulation report into " + dir, e);
    }
  }

  /**
   * One row per scenario and fleet: GPU-hours, cost, cost against the static fleet and against the
   * clairvoyant baseline, and each tier's waits; then how each baseline was tuned.
   */
  public static String summaryTable(List<RunResult> results) {
    StringBuilder out = new StringBuilder();
    out.append("| scenario | fleet | GPU-hours | cost/day | vs static | vs clairvoyant | turbo ≤ 10 s | fast ≤ 60 s"
        + " | relax ≤ 10 min | p99 wait turbo / fast / relax |\n");
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (RunResult run : results) {
      out.append(String.format(Locale.ROOT, "| %s | %s | %.0f | $%,.0f | %s | %s | %s | %s | %s | %s / %s / %s |%n",
          run.scenario(), run.policy().label(), run.totalGpuHours(), run.cost(),
          against(run, results, PolicyKind.STATIC, "%.0f %%", 100), against(run, results, PolicyKind.CLAIRVOYANT, "%.2fx", 1),
          share(run.tier("turbo")), share(run.tier("fast")), share(run.tier("relax")),
          seconds(run.tier("turbo").p99WaitS()), seconds(run.tier("fast").p99WaitS()),
          seconds(run.tier("relax").p99WaitS())));
    }
    List<String> tunings = results.stream().filter(r -> !r.tuning().isEmpty())
        .map(r -> "* " + r.scenario() + ", " + r.policy().label() + ": " + r.tuning()).toList();
    if (!tunings.isEmpty()) {
      out.append("\nBaselines as tuned:\n\n").append(String.join("\n", tunings)).append('\n');
    }
    return out.toString();
  }

  /** The KEDA sweep on the normal day: one row per listLength. */
  public static String sweepTable(List<RunResult> sweep) {
    StringBuilder out = new StringBuilder("| KEDA listLength | GPU-hours | cost/day | turbo ≤ 10 s | fast ≤ 60 s"
        + " | relax ≤ 10 min | every tier ≥ 99 % |\n|---|---:|---:|---:|---:|---:|---|\n");
    for (RunResult run : sweep) {
      out.append(String.format(Locale.ROOT, "| %s | %.0f | $%,.0f | %s | %s | %s | %s |%n",
          run.tuning().replace("listLength ", ""), run.totalGpuHours(), run.cost(), share(run.tier("turbo")),
          share(run.tier("fast")), share(run.tier("relax")), run.meetsTargets(Simulator.TARGET_SHARE) ? "yes" : "no"));
    }
    return out.toString();
  }

  /** The run's cost against the same scenario's {@code other} fleet, or "-" when it was not run. */
  private static String against(RunResult run, List<RunResult> results, PolicyKind other, String format, double scale) {
    double base = results.stream().filter(r -> r.scenario().equals(run.scenario()) && r.policy() == other)
        .mapToDouble(RunResult::cost).findFirst().orElse(Double.NaN);
    return Double.isNaN(base) ? "-" : String.format(Locale.ROOT, format, scale * run.cost() / base);
  }

  private static String share(TierOutcome tier) {
    double share = 100 * tier.shareWithinTarget();
    return String.format(Locale.ROOT, share >= 99.995 ? "%.0f %%" : "%.2f %%", share);
  }

  private static String seconds(double s) {
    return s < 60 ? String.format(Locale.ROOT, "%.1f s", s) : String.format(Locale.ROOT, "%.0f min", s / 60);
  }

  static String timelineCsv(RunResult run) {
    StringBuilder out = new StringBuilder("minute,arrivals_qps");
    for (String pool : run.gpuHours().keySet()) {
      out.append(",workers_").append(pool);
    }
    out.append(",workers_total");
    for (String tier : TIERS) {
      out.append(",depth_").append(tier);
    }
    for (String tier : TIERS) {
      out.append(",wait_mean_s_").append(tier);
    }
    for (String tier : TIERS) {
      out.append(",wait_max_s_").append(tier);
    }
    out.append(",cost_per_hour\n");
    for (TimelineRow row : run.timeline()) {
      out.append(String.format(Locale.ROOT, "%.0f,%.2f", row.minute(), row.arrivalsQps()));
      int total = 0;
      for (int w : row.workers()) {
        out.append(',').append(w);
        total += w;
      }
      out.append(',').append(total);
      for (int d : row.depth()) {
        out.append(',').append(d);
      }
      for (double w : row.meanWaitS()) {
        out.append(',').append(Double.isNaN(w) ? "" : String.format(Locale.ROOT, "%.2f", w));
      }
      for (double w : row.maxWaitS()) {
        out.append(',').append(Double.isNaN(w) ? "" : String.format(Locale.ROOT, "%.2f", w));
      }
      out.append(String.format(Locale.ROOT, ",%.2f%n", row.costPerHour()));
    }
    return out.toString();
  }

  static String decisionsCsv(List<ScalingDecision> decisions) {
    StringBuilder out = new StringBuilder(
        "time,pool,from,to,reason,driver,signal,value,threshold,held_ms,forecast_source,forecast_qps,observed_qps,warm_models,drain_models\n");
    for (ScalingDecision d : decisions) {
      out.append(String.format(Locale.ROOT, "%s,%s,%d,%d,%s,%s,%s,%s,%s,%d,%s,%s,%s,%s,%s%n", d.time(), d.pool(), d.from(),
          d.to(), d.reason(), d.driver(), d.signal() == null ? "" : d.signal(), number(d.value()), number(d.threshold()),
          d.heldMs(), d.forecast() == null ? "" : d.forecast().source(),
          d.forecast() == null ? "" : number(d.forecast().regionQps()),
          d.forecast() == null ? "" : number(d.forecast().observedQps()),
          String.join(" ", d.warmModels().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()),
          String.join(" ", d.drainModels())));
    }
    return out.toString();
  }

  private static String number(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.3f", v) : "";
  }
}
