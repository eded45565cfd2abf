package dev.genmesh.simulator.impl;

import dev.genmesh.simulator.TierOutcome;

/** Waits of one tier's counted requests: counts, sum, max and a histogram for the percentile. */
final class WaitStats {
  /** 100 ms buckets up to 10 min, then one bucket per minute up to a day. */
  private static final int FINE = 6_000;
  private final long[] fine = new long[FINE];
  private final long[] coarse = new long[24 * 60];
  private final String tier;
  private final double targetSeconds;
  private long count;
  private long within;
  private double sum;
  private double max;

  WaitStats(String tier, double targetSeconds) {
    this.tier = tier;
    this.targetSeconds = targetSeconds;
  }

  void add(double waitSeconds) {
    count++;
    if (waitSeconds <= targetSeconds) {
      within++;
    }
    sum += waitSeconds;
    max = Math.max(max, waitSeconds);
    int bucket = (int) (waitSeconds * 10);
    if (bucket < FINE) {
      fine[bucket]++;
    } else {
      coarse[Math.min(coarse.length - 1, (int) (waitSeconds / 60))]++;
    }
  }

  double percentile(double p) {
    long rank = (long) Math.ceil(p * count);
    long seen = 0;
    for (int i = 0; i < FINE; i++) {
      seen += fine[i];
      if (seen >= rank) {
        return (i + 1) / 10.0;
      }
    }
    for (int i = 0; i < coarse.length; i++) {
      seen += coarse[i];
      if (seen >= rank) {
        return (i + 1) * 60.0;
      }
    }
    return max;
  }

  TierOutcome outcome() {
    return new TierOutcome(tier, count, within, count == 0 ? 0 : sum / count, count == 0 ? 0 : percentile(0.99), max,
        Math.round(targetSeconds * 1000));
  }
}
