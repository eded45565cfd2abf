package dev.genmesh.config;

import dev.genmesh.config.impl.Node;

/** One GPU class of the catalog: memory and what an hour of it costs. */
public record GpuConfig(String name, int vramGb, double costPerHour) {

  static GpuConfig read(Node n) {
    GpuConfig config = new GpuConfig(n.name(), n.integer("vram_gb", 1, 4096), n.decimal("cost_per_hour", 0.0, 10_000.0));
    n.finish();
    return config;
  }
}
