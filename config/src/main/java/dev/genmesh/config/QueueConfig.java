package dev.genmesh.config;

import dev.genmesh.config.impl.Node;

/**
 * Tier queues and leases (docs/architecture.md, invariants I3, I4, I5).
 *
 * @param routingHoldMs how long a queued request insists on its routing preferences (GPU class,
 *     estimated VRAM, the {@code larger_vram} / {@code different_worker} hints of a retry) before
 *     any worker that has its model may take it, so that no request waits forever for a worker
 *     the region does not have
 * @param commitLingerUs how long the request log's group commit lets its next transaction wait for
 *     more statements after a commit that others waited for (docs/architecture.md, "What is
 *     committed when"); 0 starts it at once
 */
public record QueueConfig(
    long leaseMs,
    int maxRetries,
    int retryPriorityBoost,
    long backoffCapMs,
    double relaxShare,
    long leaseReapIntervalMs,
    long routingHoldMs,
    long commitLingerUs) {

  public static final long DEFAULT_ROUTING_HOLD_MS = 60_000;
  public static final long DEFAULT_COMMIT_LINGER_US = 1_000;

  /** Without {@code commitLingerUs} (the default applies). */
  public QueueConfig(long leaseMs, int maxRetries, int retryPriorityBoost, long backoffCapMs, double relaxShare,
      long leaseReapIntervalMs, long routingHoldMs) {
    this(leaseMs, maxRetries, retryPriorityBoost, backoffCapMs, relaxShare, leaseReapIntervalMs, routingHoldMs,
        DEFAULT_COMMIT_LINGER_US);
  }

  /** Without {@code routingHoldMs} (the default applies). */
  public QueueConfig(long leaseMs, int maxRetries, int retryPriorityBoost, long backoffCapMs, double relaxShare,
      long leaseReapIntervalMs) {
    this(leaseMs, maxRetries, retryPriorityBoost, backoffCapMs, relaxShare, leaseReapIntervalMs, DEFAULT_ROUTING_HOLD_MS);
  }

  /** The same, with the group commit's linger set to {@code micros}. */
  public QueueConfig withCommitLingerUs(long micros) {
    return new QueueConfig(leaseMs, maxRetries, retryPriorityBoost, backoffCapMs, relaxShare, leaseReapIntervalMs,
        routingHoldMs, micros);
  }

  static QueueConfig read(Node n) {
    QueueConfig config = new QueueConfig(
        n.integer("lease_ms", 100L, 3_600_000L),
        n.integer("max_retries", 0, 100),
        n.integer("retry_priority_boost", 0, 1_000_000),
        n.integer("backoff_cap_ms", 0L, 3_600_000L),
        n.decimal("relax_share", 0.0, 1.0),
        n.integer("lease_reap_interval_ms", 10L, 600_000L),
        n.integer("routing_hold_ms", 0, 86_400_000, (int) DEFAULT_ROUTING_HOLD_MS),
        n.integer("commit_linger_us", 0, 20_000, (int) DEFAULT_COMMIT_LINGER_US));
    n.finish();
    return config;
  }
}
