package dev.genmesh.simulator.impl;

import dev.genmesh.autoscaler.HourOfWeekForecast;
import dev.genmesh.autoscaler.ScalingObservation;
import dev.genmesh.autoscaler.ScalingPolicy;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.scaling.ScalingDecision;
import dev.genmesh.simulator.PolicyKind;
import dev.genmesh.simulator.RunResult.TimelineRow;
import dev.genmesh.simulator.RunResult;
import dev.genmesh.simulator.Scenario;
import dev.genmesh.simulator.SimulationSettings;
import dev.genmesh.simulator.impl.baselines.ClairvoyantPolicy;
import dev.genmesh.simulator.impl.baselines.KedaRedisPolicy;
import dev.genmesh.simulator.impl.baselines.StaticPolicy;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One scenario under one policy: trains the forecast on the scenario's history, warms the region
 * up, runs the day (and a tail until the day's requests have all been dispatched, at most 6 h),
 * and collects cost, waits, timeline and decisions. The design policy is the production class,
 * driven through the same {@code ScalingPolicy} and {@code Actuator} interfaces the region uses.
 */
public final class SimulationRun {
  /** The simulated day: a Wednesday. */
  public static final Instant DAY = Instant.parse("2026-11-25T00:00:00Z");
  private static final double DAY_SECONDS = 86_400;
  private static final double TAIL_SECONDS = 6 * 3600;

  private SimulationRun() {}

  /**
   * @param parameter the clairvoyant baseline's headroom, or the KEDA baseline's listLength (ignored
   *     by the others)
   */
  public static RunResult run(GenmeshConfig config, SimulationSettings settings, Scenario scenario, PolicyKind kind,
      double parameter) {
    long wallStart = System.nanoTime();
    SimClock clock = new SimClock(DAY);
    double start = -settings.warmupHours() * 3600;
    SimulatedRegion model = new SimulatedRegion(config, settings, scenario.today(), start, DAY_SECONDS);
    ScalingPolicy policy = switch (kind) {
      case DESIGN -> ScalingPolicy.design(config, "sim", clock, trainedForecast(config, settings, scenario));
      case CLAIRVOYANT -> new ClairvoyantPolicy(config, settings, scenario.today(), clock, start,
          DAY_SECONDS + TAIL_SECONDS, parameter);
      case KEDA -> new KedaRedisPolicy(config, clock, parameter);
      case STATIC -> new StaticPolicy(config, settings.staticFleet(), clock);
    };
    double tickSeconds = config.autoscaling().evaluationIntervalMs() / 1000.0;
    List<ScalingDecision> decisions = new ArrayList<>();
    List<TimelineRow> timeline = new ArrayList<>();
    model.run(tickSeconds, DAY_SECONDS + TAIL_SECONDS, new SimulationHooks() {
      @Override
      public void tick(double now) {
        clock.set(now);
        model.revisitIdle();
        ScalingObservation observation = model.observe(clock.instant());
        for (ScalingDecision decision : policy.evaluate(observation)) {
          model.apply(decision);
          if (now >= 0 && now < DAY_SECONDS) {
            decisions.add(decision);
          }
        }
      }

      @Override
      public void sample(double now) {
        double[][] minute = model.takeMinute();
        int[] workers = model.billedWorkers();
        double costPerHour = 0;
        for (int p = 0; p < workers.length; p++) {
          costPerHour += workers[p] * model.pricePerHour()[p];
        }
        timeline.add(new TimelineRow(now / 60, minute[2][0], workers, model.tierDepths(), minute[0], minute[1], costPerHour));
      }
    });
    Map<String, Double> gpuHours = model.gpuHours();
    double cost = 0;
    int p = 0;
    for (double hours : gpuHours.values()) {
      cost += hours * model.pricePerHour()[p++];
    }
    return new RunResult(scenario.name(), kind, gpuHours, cost, model.outcomes(), timeline, decisions,
        model.countedArrivals(), model.swaps, (System.nanoTime() - wallStart) / 1_000_000, "");
  }

  /**
   * The forecast as the region would have it: {@code historyDays} of the scenario's usual traffic
   * (with its own hourly noise), observed every 10 s up to the start of the warm-up.
   */
  static HourOfWeekForecast trainedForecast(GenmeshConfig config, SimulationSettings settings, Scenario scenario) {
    HourOfWeekForecast forecast = new HourOfWeekForecast(config.autoscaling());
    double end = -settings.warmupHours() * 3600;
    for (double t = end - settings.historyDays() * DAY_SECONDS; t < end; t += 10) {
      double noise = 0.95 + 0.10 * unit((long) Math.floor(t / 3600), settings.seed() + 1);
      forecast.observe(DAY.plusMillis(Math.round(t * 1000)), settings.peakQps() * scenario.history().share(t) * noise);
    }
    return forecast;
  }

  private static double unit(long hour, long seed) {
    long h = (hour + 7_777_777L) * 0x9E3779B97F4A7C15L ^ seed;
    h ^= h >>> 31;
    h *= 0xBF58476D1CE4E5B9L;
    h ^= h >>> 29;
    return (h >>> 11) * 0x1.0p-53;
  }
}
