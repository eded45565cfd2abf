package dev.genmesh.autoscaler;

import dev.genmesh.config.AutoscalingConfig;
import java.time.Duration;
import java.time.Instant;

/** Predicts the region's arrivals from what it saw before. */
public interface TrafficForecast {
  String SOURCE_LEARNED = "learned";
  String SOURCE_SCHEDULE = "schedule";

  /** The region's arrivals per second at {@code time} (called once per policy evaluation, in time order). */
  void observe(Instant time, double arrivalsPerSecond);

  /** The highest arrival rate expected between {@code now} and {@code now + horizon}. */
  Prediction predict(Instant now, Duration horizon);

  /**
   * @param qps predicted arrivals per second (the busiest moment of the horizon, scaled by {@code level})
   * @param source {@link #SOURCE_LEARNED} when that hour's value came from the learned profile,
   *     {@link #SOURCE_SCHEDULE} when from the time-of-day schedule
   * @param observedQps the recent arrivals (smoothed)
   * @param level recent arrivals relative to what the profile expected for now (1.0 = as usual)
   */
  record Prediction(double qps, String source, double observedQps, double level) {}

  /**
   * The hour-of-week profile with exponential smoothing, falling back to the time-of-day
   * schedule for hours it has not seen.
   */
  static TrafficForecast hourOfWeek(AutoscalingConfig config) {
    return new HourOfWeekForecast(config);
  }
}
