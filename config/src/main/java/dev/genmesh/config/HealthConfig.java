package dev.genmesh.config;

import dev.genmesh.config.impl.Node;

/** Worker health: heartbeat cadence and when a silent worker counts as unhealthy. */
public record HealthConfig(long heartbeatIntervalMs, long heartbeatTimeoutMs, int unhealthyAfterMisses) {

  static HealthConfig read(Node n) {
    HealthConfig config = new HealthConfig(
        n.integer("heartbeat_interval_ms", 100L, 600_000L),
        n.integer("heartbeat_timeout_ms", 100L, 3_600_000L),
        n.integer("unhealthy_after_misses", 1, 100));
    n.finish();
    return config;
  }
}
