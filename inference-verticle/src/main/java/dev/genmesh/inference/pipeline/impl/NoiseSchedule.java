package dev.genmesh.inference.pipeline.impl;

/**
 * Karras et al. (2022) sigma schedule: {@code steps} noise levels from sigma_max down to
 * sigma_min, spaced evenly in sigma^(1/rho), followed by a final 0.
 */
public record NoiseSchedule(double sigmaMin, double sigmaMax, double rho) {

  public static final NoiseSchedule DEFAULT = new NoiseSchedule(0.0292, 14.6146, 7.0);

  public NoiseSchedule {
    if (!(sigmaMin > 0 && sigmaMax > sigmaMin && rho > 0)) {
      throw new IllegalArgumentException("need 0 < sigmaMin < sigmaMax and rho > 0");
    }
  }

  /** {@code steps + 1} values, strictly decreasing, the last one 0. */
  public double[] sigmas(int steps) {
    if (steps < 1) {
      throw new IllegalArgumentException("steps must be at least 1, was " + steps);
    }
    double[] sigmas = new double[steps + 1];
    double maxRoot = Math.pow(sigmaMax, 1 / rho);
    double minRoot = Math.pow(sigmaMin, 1 / rho);
    for (int i = 1; i < steps - 1; i++) {
      double t = (double) i / (steps - 1);
      sigmas[i] = Math.pow(maxRoot + t * (minRoot - maxRoot), rho);
    }
    // The ends exactly, not through pow(pow(x, 1/rho), rho).
    sigmas[0] = sigmaMax;
    if (steps > 1) {
      sigmas[steps - 1] = sigmaMin;
    }
    sigmas[steps] = 0;
    return sigmas;
  }
}
