package dev.genmesh.simulator.impl;

/** What a simulated region calls back while it runs: a policy tick, and a sample every minute. */
interface SimulationHooks {
  void tick(double now);

  void sample(double now);
}
