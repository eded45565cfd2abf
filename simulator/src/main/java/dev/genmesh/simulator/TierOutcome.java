package dev.genmesh.simulator;

/**
 * How one tier's requests of the day fared.
 *
 * @param requests requests that arrived during the day
 * @param withinTarget of those, dispatched within the tier's wait target
 * @param meanWaitS mean wait until a worker took them (undispatched at the end: their age)
 * @param p99WaitS 99th percentile of the wait
 * @param maxWaitS the longest wait
 */
public record TierOutcome(String tier, long requests, long withinTarget, double meanWaitS, double p99WaitS,
    double maxWaitS, long targetMs) {

  public double shareWithinTarget() {
    return requests == 0 ? 1.0 : withinTarget / (double) requests;
  }
}
