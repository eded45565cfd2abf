package dev.genmesh.simulator;

import java.util.Map;
import java.util.TreeMap;

/** Arrivals as a share of the peak rate, by seconds since the start of the simulated day (may exceed one day). */
@FunctionalInterface
public interface TrafficShape {
  double share(double secondsOfDay);

  /**
   * The design's day: the time-of-day schedule (by default 02:00 30 %, 06:00 50 %, 10:00 100 %,
   * 22:00 70 %) with each change spread over a 90-minute cosine ramp centred on its time, as real
   * traffic does not jump.
   */
  static TrafficShape designDay(Map<String, Double> schedule) {
    TreeMap<Double, Double> sorted = new TreeMap<>();
    schedule.forEach((hm, share) -> {
      String[] parts = hm.split(":");
      sorted.put(Integer.parseInt(parts[0]) * 3600.0 + Integer.parseInt(parts[1]) * 60.0, share);
    });
    double[] at = sorted.keySet().stream().mapToDouble(Double::doubleValue).toArray();
    double[] level = sorted.values().stream().mapToDouble(Double::doubleValue).toArray();
    double ramp = 90 * 60;
    return seconds -> {
      double t = ((seconds % 86_400) + 86_400) % 86_400;
      // The latest change whose ramp has begun (wrapping to yesterday's last one).
      int i = at.length - 1;
      for (int k = 0; k < at.length; k++) {
        if (at[k] - ramp / 2 <= t) {
          i = k;
        }
      }
      double from = level[(i + at.length - 1) % at.length];
      double into = t - (at[i] - ramp / 2);
      if (into < 0) {
        into += 86_400;
      }
      return into >= ramp ? level[i] : from + (level[i] - from) * (1 - Math.cos(Math.PI * into / ramp)) / 2;
    };
  }
}
