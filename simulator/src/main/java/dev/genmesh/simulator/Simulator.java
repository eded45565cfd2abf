package dev.genmesh.simulator;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.simulator.impl.SimulationRun;

/**
 * Runs the real autoscaling policy against a discrete-event model of a region (and, for
 * comparison, the static fleet and a reactive HPA-like policy). A simulated day takes seconds.
 */
public final class Simulator {
  private final GenmeshConfig config;
  private final SimulationSettings settings;

  public Simulator(GenmeshConfig config, SimulationSettings settings) {
    this.config = config;
    this.settings = settings;
  }

  public RunResult run(Scenario scenario, PolicyKind policy) {
    return SimulationRun.run(config, settings, scenario, policy);
  }

  public GenmeshConfig config() {
    return config;
  }

  public SimulationSettings settings() {
    return settings;
  }
}
