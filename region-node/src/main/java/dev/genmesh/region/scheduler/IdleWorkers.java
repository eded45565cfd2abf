package dev.genmesh.region.scheduler;

import dev.genmesh.region.queue.QueueEntry;

/**
 * How the node tells idle workers that there is work (docs/architecture.md, "Claims"): a new
 * request wakes one waiting claim that can take it, not every idle worker. Workers that do not
 * wait (older ones), and claims waiting on other region nodes, learn of it from the
 * {@code workAvailable} publish, which goes out only when no claim here could take the work.
 */
public interface IdleWorkers {
  /** A request was queued and may be claimed now: wakes one waiting claim that can run it, else tells every worker. */
  void queued(QueueEntry entry);

  /**
   * Up to {@code count} requests of no particular shape may be claimable now ({@code reason}: a
   * tier name, {@code retry}, {@code fallback}, {@code breaker}): wakes that many waiting claims
   * and tells every worker.
   */
  void available(String reason, long count);

  /** The worker takes no work now (draining, unhealthy, gone): a claim of it that waits is answered NO_WORK. */
  void forget(String workerId);

  /** Queue depths as sampled every second; work that waited across two samples retries the claims that waited meanwhile. */
  void depths(long waiting);
}
