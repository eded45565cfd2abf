package dev.genmesh.simulator.impl;

/** One simulated generation request. */
final class SimulatedRequest {
  final double arrival;
  final int tier;
  final int requestClass;
  final int family;
  /** Arrived during the measured day (not in the warm-up or the tail). */
  final boolean counted;

  SimulatedRequest(double arrival, int tier, int requestClass, int family, boolean counted) {
    this.arrival = arrival;
    this.tier = tier;
    this.requestClass = requestClass;
    this.family = family;
    this.counted = counted;
  }
}
