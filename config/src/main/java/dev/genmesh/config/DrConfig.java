package dev.genmesh.config;

import dev.genmesh.config.impl.Node;

/** Disaster recovery: backup cadence and retention, and the failover targets. */
public record DrConfig(long backupIntervalMs, int backupRetention, long rpoTargetMs, long rtoTargetMs) {

  static DrConfig read(Node n) {
    DrConfig config = new DrConfig(
        n.integer("backup_interval_ms", 1000L, 604_800_000L),
        n.integer("backup_retention", 1, 10_000),
        n.integer("rpo_target_ms", 0L, 86_400_000L),
        n.integer("rto_target_ms", 0L, 86_400_000L));
    n.finish();
    return config;
  }
}
