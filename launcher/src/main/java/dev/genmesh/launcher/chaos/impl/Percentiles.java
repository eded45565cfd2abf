package dev.genmesh.launcher.chaos.impl;

/** Nearest-rank percentiles of a sorted sample; -1 for an empty one. */
final class Percentiles {
  private Percentiles() {}

  static double p(long[] sorted, double percentile) {
    if (sorted.length == 0) {
      return -1;
    }
    int rank = (int) Math.ceil(percentile / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }
}
