package dev.genmesh.region.autoscale.sim.impl;

/** One simulated generation request. */
final class Request {
  final double arrival;
  final int tier;
  final int requestClass;
  final int family;
  /** Arrived during the measured day (not in the warm-up or the tail). */
  final boolean counted;

  Request(double arrival, int tier, int requestClass, int family, boolean counted) {
    this.arrival = arrival;
    this.tier = tier;
    this.requestClass = requestClass;
    this.family = family;
    this.counted = counted;
  }
}
