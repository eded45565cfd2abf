package dev.genmesh.simulator.impl;

import static dev.genmesh.simulator.impl.RegionLayout.TIERS;

/** What one minute of the simulated day saw: dispatch waits per tier and arrivals. */
final class MinuteSample {
  private final double[] waitSum = new double[TIERS];
  private final double[] waitMax = new double[TIERS];
  private final int[] dispatches = new int[TIERS];
  private int arrivals;

  void arrived() {
    arrivals++;
  }

  void dispatched(int tier, double wait) {
    waitSum[tier] += wait;
    waitMax[tier] = Math.max(waitMax[tier], wait);
    dispatches[tier]++;
  }

  /** The minute's dispatch waits ([0] mean, [1] max per tier) and arrivals per second ([2][0]); resets them. */
  double[][] take() {
    double[][] out = new double[3][TIERS];
    for (int t = 0; t < TIERS; t++) {
      out[0][t] = dispatches[t] == 0 ? Double.NaN : waitSum[t] / dispatches[t];
      out[1][t] = dispatches[t] == 0 ? Double.NaN : waitMax[t];
      waitSum[t] = 0;
      waitMax[t] = 0;
      dispatches[t] = 0;
    }
    out[2][0] = arrivals / 60.0;
    arrivals = 0;
    return out;
  }
}
