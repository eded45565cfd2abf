package dev.genmesh.simulator;

import dev.genmesh.config.GenmeshConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The model of a region the simulator runs. Traffic and mixes not in the design are our
 * estimates, stated here and in docs/autoscaling.md.
 *
 * @param peakQps the rate at 100 % of the daily curve ({@code autoscaling.forecast.peak_qps})
 * @param tierMix share of requests per tier (estimate: turbo 10 %, fast 50 %, relax 40 %)
 * @param familyMix share per model family ({@code autoscaling.model_mix})
 * @param classMix per family, the share of each request class (estimate)
 * @param coldStartMs start to ready ({@code autoscaling.cold_start_ms}); each start varies +-20 %
 * @param swapMs a worker loading another model family from its local cache (estimate)
 * @param serviceTimeFactor multiplies every service time (1.0: the {@link ServiceTimes} estimates)
 * @param historyDays days of the usual curve that train the forecast before the day
 * @param warmupHours simulated before the day starts (not counted), so the day starts warm
 * @param staticFleet the static fleet compared against: 100 GPUs costing about the design's $225/h
 */
public record SimulationSettings(
    double peakQps,
    Map<String, Double> tierMix,
    Map<String, Double> familyMix,
    Map<String, Map<String, Double>> classMix,
    ServiceTimes serviceTimes,
    long coldStartMs,
    long swapMs,
    double serviceTimeFactor,
    int historyDays,
    double warmupHours,
    Map<String, Integer> staticFleet,
    long seed) {

  public static SimulationSettings defaults(GenmeshConfig config) {
    Map<String, Double> tiers = new LinkedHashMap<>();
    tiers.put("turbo", 0.10);
    tiers.put("fast", 0.50);
    tiers.put("relax", 0.40);
    Map<String, Map<String, Double>> classes = new LinkedHashMap<>();
    classes.put("sdxl", ordered("sdxl", 0.70, "sdxl_lora", 0.15, "sdxl_controlnet", 0.10, "high_res", 0.05));
    classes.put("sd3", ordered("sd3_flux", 1.0));
    classes.put("flux", ordered("sd3_flux", 1.0));
    classes.put("other", ordered("batch", 1.0));
    Map<String, Integer> fleet = new LinkedHashMap<>();
    fleet.put("L4", 45);
    fleet.put("A10G", 11);
    fleet.put("A100-40", 39);
    fleet.put("A100-80", 0);
    fleet.put("H100", 5);
    return new SimulationSettings(config.autoscaling().forecast().peakQps(), tiers,
        new LinkedHashMap<>(config.autoscaling().modelMix()), classes, ServiceTimes.estimates(),
        config.autoscaling().coldStartMs(), 20_000, 1.0, 14, 3, fleet, 42);
  }

  public SimulationSettings withPeakQps(double qps) {
    return new SimulationSettings(qps, tierMix, familyMix, classMix, serviceTimes, coldStartMs, swapMs, serviceTimeFactor,
        historyDays, warmupHours, staticFleet, seed);
  }

  public SimulationSettings withServiceTimeFactor(double factor) {
    return new SimulationSettings(peakQps, tierMix, familyMix, classMix, serviceTimes, coldStartMs, swapMs, factor,
        historyDays, warmupHours, staticFleet, seed);
  }

  public SimulationSettings withServiceTimes(ServiceTimes times) {
    return new SimulationSettings(peakQps, tierMix, familyMix, classMix, times, coldStartMs, swapMs, serviceTimeFactor,
        historyDays, warmupHours, staticFleet, seed);
  }

  public SimulationSettings withColdStartMs(long ms) {
    return new SimulationSettings(peakQps, tierMix, familyMix, classMix, serviceTimes, ms, swapMs, serviceTimeFactor,
        historyDays, warmupHours, staticFleet, seed);
  }

  public SimulationSettings withSeed(long newSeed) {
    return new SimulationSettings(peakQps, tierMix, familyMix, classMix, serviceTimes, coldStartMs, swapMs,
        serviceTimeFactor, historyDays, warmupHours, staticFleet, newSeed);
  }

  /**
   * Requests per second the day's Poisson arrivals are drawn with at {@code t} (seconds of the
   * day): the shape times the peak, with +-5 % per hour that is the same for every run with this
   * seed (no day is exactly the curve). What a clairvoyant policy may know in advance.
   */
  public double arrivalRate(TrafficShape traffic, double t) {
    long h = ((long) Math.floor(t / 3600) + 1_000_003L) * 0x9E3779B97F4A7C15L ^ seed;
    h ^= h >>> 31;
    h *= 0xBF58476D1CE4E5B9L;
    h ^= h >>> 29;
    return peakQps * traffic.share(t) * (0.95 + 0.10 * ((h >>> 11) * 0x1.0p-53));
  }

  private static Map<String, Double> ordered(Object... pairs) {
    Map<String, Double> map = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      map.put((String) pairs[i], (Double) pairs[i + 1]);
    }
    return map;
  }
}
