package dev.genmesh.autoscaler.impl;

import java.time.Duration;
import java.time.Instant;

/**
 * What arrives now, as the policy plans for it: never less than this. One minute's count is noisy
 * (a Poisson count of 3 600 varies by about 2 %), and a trigger without a window that reads the
 * larger of the forecast and a noisy count rides the top of the noise. So a minute within
 * {@link #NOISE_SIGMAS} standard deviations of a Poisson count at the smoothed rate only moves the
 * smoothed rate (exponentially, over the window); a minute beyond them is a real change, taken at
 * once (a flash crowd must not wait minutes for the smoothing).
 */
final class ArrivalsNow {
  static final double NOISE_SIGMAS = 5;
  private static final double COUNT_SECONDS = 60;

  private final long windowMs;
  private double smoothed = Double.NaN;
  private Instant last;

  ArrivalsNow(long windowMs) {
    this.windowMs = windowMs;
  }

  /** Takes this evaluation's arrivals per second (of the last minute); answers the rate to plan for. */
  double update(double arrivalsPerSecond, Instant now) {
    if (!Double.isFinite(arrivalsPerSecond) || arrivalsPerSecond < 0) {
      return Double.isNaN(smoothed) ? 0 : smoothed;
    }
    double noise = NOISE_SIGMAS * Math.sqrt(Math.max(smoothed, 1 / COUNT_SECONDS) / COUNT_SECONDS);
    if (Double.isNaN(smoothed) || windowMs <= 0 || Math.abs(arrivalsPerSecond - smoothed) > noise) {
      smoothed = arrivalsPerSecond;
    } else if (now.isAfter(last)) {
      double weight = 1 - Math.exp(-Duration.between(last, now).toMillis() / (double) windowMs);
      smoothed += weight * (arrivalsPerSecond - smoothed);
    }
    last = now;
    return smoothed;
  }
}
