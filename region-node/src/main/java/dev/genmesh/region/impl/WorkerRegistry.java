package dev.genmesh.region.impl;

import dev.genmesh.protocol.WorkerMessages.Heartbeat;
import dev.genmesh.region.KnownWorker;
import io.vertx.core.eventbus.Message;
import java.time.Clock;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The workers this node has heard from; their heartbeats renew the leases they hold. */
public final class WorkerRegistry {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerRegistry.class);

  private final Map<String, KnownWorker> workers = new ConcurrentHashMap<>();
  private final TierQueue queue;
  private final long leaseMs;
  private final Clock clock;

  public WorkerRegistry(TierQueue queue, long leaseMs, Clock clock) {
    this.queue = queue;
    this.leaseMs = leaseMs;
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
        LOG.warn("worker {}: leases of {} not renewed: {}", beat.workerId(), beat.activeRequests(), err.toString()));
  }

  /** Safe to call from any thread. */
  public Collection<KnownWorker> workers() {
    return List.copyOf(workers.values());
  }
}
