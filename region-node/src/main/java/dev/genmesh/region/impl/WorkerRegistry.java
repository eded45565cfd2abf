package dev.genmesh.region.impl;

import dev.genmesh.protocol.WorkerMessages.Heartbeat;
import dev.genmesh.region.KnownWorker;
import io.vertx.core.eventbus.Message;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workers this node has heard from. Their heartbeats renew the leases they hold; a renewal
 * that fails (Redis down) is quiet, because the rebuild restores the leases of requests a
 * heartbeating worker still runs.
 */
public final class WorkerRegistry {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerRegistry.class);

  private final Map<String, KnownWorker> workers = new ConcurrentHashMap<>();
  private final TierQueue queue;
  private final long leaseMs;
  private final long liveWithinMs;
  private final Clock clock;

  /** @param liveWithinMs a worker heard from this recently counts as live (the heartbeat timeout) */
  public WorkerRegistry(TierQueue queue, long leaseMs, long liveWithinMs, Clock clock) {
    this.queue = queue;
    this.leaseMs = leaseMs;
    this.liveWithinMs = liveWithinMs;
    this.clock = clock;
  }

  public void heartbeat(Message<Object> message) {
    Heartbeat beat = BusBodies.parse(message, Heartbeat::fromJson);
    if (beat == null || beat.workerId() == null) {
      LOG.debug("malformed heartbeat dropped");
      return;
    }
    workers.put(beat.workerId(), new KnownWorker(beat.workerId(), beat.gpuClass(), List.copyOf(beat.loadedModels()),
        List.copyOf(beat.activeRequests()), clock.instant()));
    queue.renewLeases(beat.workerId(), beat.activeRequests(), leaseMs).onFailure(err ->
        LOG.debug("worker {}: leases of {} not renewed: {}", beat.workerId(), beat.activeRequests(), err.toString()));
  }

  /** Safe to call from any thread. */
  public Collection<KnownWorker> workers() {
    return List.copyOf(workers.values());
  }

  public Optional<KnownWorker> worker(String workerId) {
    return workerId == null ? Optional.empty() : Optional.ofNullable(workers.get(workerId));
  }

  /** Workers heard from within the heartbeat timeout. */
  public int liveCount() {
    long now = clock.millis();
    return (int) workers.values().stream().filter(w -> now - w.lastSeen().toEpochMilli() < liveWithinMs).count();
  }

  /**
   * True if the worker's last heartbeat, younger than a lease, lists the request: its lease would
   * still be alive had Redis kept it, so the lease is restored rather than the request re-queued.
   */
  public boolean stillRuns(String workerId, String requestId) {
    KnownWorker worker = workerId == null ? null : workers.get(workerId);
    return worker != null && worker.activeRequests().contains(requestId)
        && Duration.between(worker.lastSeen(), clock.instant()).toMillis() < leaseMs;
  }
}
