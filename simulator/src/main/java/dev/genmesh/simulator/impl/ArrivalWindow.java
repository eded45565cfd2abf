package dev.genmesh.simulator.impl;

import static dev.genmesh.simulator.impl.RegionLayout.TIERS;

import java.util.ArrayDeque;
import java.util.Arrays;

/** Arrivals per request class and tier over the last minute of policy ticks, as the policy observes them. */
final class ArrivalWindow {
  private final int[][] thisTick;
  private final ArrayDeque<int[][]> recent = new ArrayDeque<>();

  ArrivalWindow(int classes) {
    thisTick = new int[classes][TIERS];
  }

  void arrived(int requestClass, int tier) {
    thisTick[requestClass][tier]++;
  }

  /** Closes the tick; answers arrivals per second per [class][tier] over the last minute of ticks. */
  double[][] closeTick(double tickSeconds) {
    int[][] snapshot = new int[thisTick.length][];
    for (int c = 0; c < snapshot.length; c++) {
      snapshot[c] = thisTick[c].clone();
      Arrays.fill(thisTick[c], 0);
    }
    recent.addLast(snapshot);
    while (recent.size() > Math.max(1, Math.round(60 / tickSeconds))) {
      recent.removeFirst();
    }
    double span = recent.size() * tickSeconds;
    long[][] counts = new long[thisTick.length][TIERS];
    for (int[][] bucket : recent) {
      for (int c = 0; c < counts.length; c++) {
        for (int t = 0; t < TIERS; t++) {
          counts[c][t] += bucket[c][t];
        }
      }
    }
    double[][] rates = new double[counts.length][TIERS];
    for (int c = 0; c < counts.length; c++) {
      for (int t = 0; t < TIERS; t++) {
        rates[c][t] = counts[c][t] / span;
      }
    }
    return rates;
  }
}
