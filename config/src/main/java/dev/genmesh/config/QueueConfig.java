package dev.genmesh.config;

import dev.genmesh.config.impl.Node;

/** Tier queues and leases (invariants I3, I4, I5 of DESIGN.md). */
public record QueueConfig(
    long leaseMs,
    int maxRetries,
    int retryPriorityBoost,
    long backoffCapMs,
    double relaxShare,
    long leaseReapIntervalMs) {

  static QueueConfig read(Node n) {
    QueueConfig config = new QueueConfig(
        n.integer("lease_ms", 100L, 3_600_000L),
        n.integer("max_retries", 0, 100),
        n.integer("retry_priority_boost", 0, 1_000_000),
        n.integer("backoff_cap_ms", 0L, 3_600_000L),
        n.decimal("relax_share", 0.0, 1.0),
        n.integer("lease_reap_interval_ms", 10L, 600_000L));
    n.finish();
    return config;
  }
}
