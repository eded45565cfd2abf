package dev.genmesh.region.workers;

import java.util.Locale;

/**
 * How the region judges a worker (region-node/API.md, "Worker health"). Only a
 * {@link #HEALTHY} worker is given new work.
 */
public enum WorkerState {
  /** Heartbeating, ready and live. */
  HEALTHY,
  /** Heartbeating but not ready (loading or warming up models, restarting its sessions). */
  NOT_READY,
  /** Finishing what it runs before it stops; takes no new work. */
  DRAINING,
  /**
   * Reports itself not live (persistent device errors, or a batch that stopped making steps): it
   * needs replacing, and what it holds is handed back.
   */
  NOT_LIVE,
  /** Missed its heartbeats (hung, overloaded or cut off): its requests were handed back. */
  UNHEALTHY,
  /** Left the region's cluster (its process died or was stopped): its requests were handed back. */
  GONE;

  public boolean acceptsWork() {
    return this == HEALTHY;
  }

  /** Its requests are handed back to the queue: it is not coming back for them. */
  public boolean isLost() {
    return this == UNHEALTHY || this == GONE;
  }

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
