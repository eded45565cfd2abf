package dev.genmesh.simulator.impl;

/** One simulated GPU worker. */
final class SimulatedWorker {
  enum State { STARTING, IDLE, BUSY, DRAINING, GONE }

  final int id;
  final int pool;
  int family;
  State state = State.STARTING;
  double readyAt;
  double lastSwap = Double.NEGATIVE_INFINITY;
  /** In its pool's idle list (possibly under an old family: entries are checked when taken). */
  boolean idleListed;
  SimulatedRequest running;

  SimulatedWorker(int id, int pool, int family) {
    this.id = id;
    this.pool = pool;
    this.family = family;
  }
}
