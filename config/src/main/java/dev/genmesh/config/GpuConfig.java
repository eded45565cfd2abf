package dev.genmesh.config;

import dev.genmesh.config.impl.Node;

/**
 * One GPU class of the catalog: memory, what an hour of it costs, and how fast it runs a
 * diffusion request relative to an A10G ({@code speed} 1.0). The autoscaler picks the pool with
 * the lowest cost per request, {@code costPerHour / speed}, among those the routing matrix allows.
 */
public record GpuConfig(String name, int vramGb, double costPerHour, double speed) {

  /** Without a speed estimate: as fast as an A10G. */
  public GpuConfig(String name, int vramGb, double costPerHour) {
    this(name, vramGb, costPerHour, 1.0);
  }

  /** Dollars per A10G-equivalent hour of work: what "cheapest" means when choosing a pool. */
  public double costPerUnitOfWork() {
    return costPerHour / speed;
  }

  static GpuConfig read(Node n) {
    GpuConfig config = new GpuConfig(n.name(), n.integer("vram_gb", 1, 4096), n.decimal("cost_per_hour", 0.0, 10_000.0),
        n.decimal("speed", 0.01, 100.0, 1.0));
    n.finish();
    return config;
  }
}
