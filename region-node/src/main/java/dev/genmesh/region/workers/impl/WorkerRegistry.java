package dev.genmesh.region.workers.impl;

import dev.genmesh.config.HealthConfig;
import dev.genmesh.protocol.WorkerMessages.Heartbeat;
import dev.genmesh.region.node.BusBodies;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.workers.KnownWorker;
import dev.genmesh.region.workers.WorkerState;
import io.vertx.core.eventbus.Message;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workers this node has heard from, and how healthy each is (region-node/API.md, "Worker
 * health"): heartbeats say ready, live or draining; silence makes a worker
 * {@link WorkerState#UNHEALTHY}, leaving the cluster {@link WorkerState#GONE}. Every change of
 * state goes to the transition listener ({@link WorkerRecovery}). Heartbeats also renew the
 * worker's leases; a failed renewal is quiet: the rebuild restores leases of requests still running.
 */
public final class WorkerRegistry {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerRegistry.class);
  /** A lost worker is forgotten after this many heartbeat timeouts without a word. */
  static final int FORGET_AFTER_TIMEOUTS = 20;

  /** One change of a worker's state. */
  public record Transition(KnownWorker worker, WorkerState from, String why) {}

  private final Map<String, KnownWorker> workers = new ConcurrentHashMap<>();
  private final TierQueue queue;
  private final long leaseMs;
  private final long intervalMs;
  private final long timeoutMs;
  private final int misses;
  private final Clock clock;
  private volatile Consumer<Transition> listener = t -> {};

  public WorkerRegistry(TierQueue queue, long leaseMs, HealthConfig health, Clock clock) {
    this.queue = queue;
    this.leaseMs = leaseMs;
    this.intervalMs = health.heartbeatIntervalMs();
    this.timeoutMs = health.heartbeatTimeoutMs();
    this.misses = health.unhealthyAfterMisses();
    this.clock = clock;
  }

  /** Called on every change of state (on the thread that saw it). */
  public void onTransition(Consumer<Transition> listener) {
    this.listener = listener;
  }

  public void heartbeat(Message<Object> message) {
    Heartbeat beat = BusBodies.parse(message, Heartbeat::fromJson);
    if (beat == null || beat.workerId() == null) {
      LOG.debug("malformed heartbeat dropped");
      return;
    }
    heard(beat);
    queue.renewLeases(beat.workerId(), beat.activeRequests(), leaseMs).onFailure(err ->
        LOG.debug("worker {}: leases of {} not renewed: {}", beat.workerId(), beat.activeRequests(), err.toString()));
  }

  /** Records a heartbeat; answers the worker as now known. */
  KnownWorker heard(Heartbeat beat) {
    Instant now = clock.instant();
    WorkerState reported = !beat.live() ? WorkerState.NOT_LIVE
        : beat.draining() ? WorkerState.DRAINING
        : !beat.ready() ? WorkerState.NOT_READY
        : WorkerState.HEALTHY;
    String reason = switch (reported) {
      case NOT_LIVE -> "reports itself not live";
      case DRAINING -> "draining";
      case NOT_READY -> "models not loaded or warmed up yet";
      default -> "heartbeating, ready and live";
    };
    KnownWorker before = workers.get(beat.workerId());
    boolean changed = before == null || before.state() != reported;
    if (before != null && before.state().isLost()) {
      reason = "heard from again after being " + before.state().wireName() + "; " + reason;
    }
    KnownWorker now1 = new KnownWorker(beat.workerId(), beat.gpuClass(), List.copyOf(beat.loadedModels()),
        List.copyOf(beat.activeRequests()), now, beat.nodeId(), beat.vramFreeMb(), beat.utilisation(), reported,
        changed ? reason : before.stateReason(), changed ? now : before.stateSince());
    workers.put(beat.workerId(), now1);
    if (changed) {
      listener.accept(new Transition(now1, before == null ? null : before.state(), reason));
    }
    return now1;
  }

  /** The cluster member {@code nodeId} left: every worker on it is gone. */
  public void memberLeft(String nodeId) {
    if (nodeId == null) {
      return;
    }
    LOG.info("cluster member {} left; workers on it: {}", nodeId,
        workers.values().stream().filter(w -> nodeId.equals(w.nodeId())).map(KnownWorker::workerId).toList());
    for (KnownWorker worker : workers.values()) {
      if (nodeId.equals(worker.nodeId()) && worker.state() != WorkerState.GONE) {
        move(worker, WorkerState.GONE, "left the region's cluster");
      }
    }
  }

  /** Marks silent workers unhealthy and forgets long-lost ones; call often (every few hundred ms). */
  public void sweep() {
    Instant now = clock.instant();
    for (KnownWorker worker : workers.values()) {
      long silentMs = Duration.between(worker.lastSeen(), now).toMillis();
      if (worker.state().isLost()) {
        if (silentMs > FORGET_AFTER_TIMEOUTS * timeoutMs) {
          workers.remove(worker.workerId(), worker);
          LOG.info("worker {} forgotten ({} for {} s)", worker.workerId(), worker.state().wireName(), silentMs / 1000);
        }
        continue;
      }
      long missed = silentMs / intervalMs;
      if (missed >= misses || silentMs >= timeoutMs) {
        move(worker, WorkerState.UNHEALTHY, "no heartbeat for " + silentMs + " ms (" + missed + " missed)");
      }
    }
  }

  private void move(KnownWorker worker, WorkerState to, String why) {
    KnownWorker moved = new KnownWorker(worker.workerId(), worker.gpuClass(), worker.loadedModels(),
        worker.activeRequests(), worker.lastSeen(), worker.nodeId(), worker.vramFreeMb(), worker.utilisation(), to, why,
        clock.instant());
    if (workers.replace(worker.workerId(), worker, moved)) {
      listener.accept(new Transition(moved, worker.state(), why));
    }
  }

  /** Safe to call from any thread. */
  public Collection<KnownWorker> workers() {
    return List.copyOf(workers.values());
  }

  public Optional<KnownWorker> worker(String workerId) {
    return workerId == null ? Optional.empty() : Optional.ofNullable(workers.get(workerId));
  }

  /**
   * False for a worker the region judges unfit for new work (not ready, draining, not live,
   * unhealthy, gone). A worker not heard from yet may claim: after a region node restarts, its
   * workers' next heartbeat may be seconds away.
   */
  public boolean mayClaim(String workerId) {
    KnownWorker worker = workerId == null ? null : workers.get(workerId);
    return worker == null || worker.state().acceptsWork();
  }

  /** Workers that take work now. */
  public int liveCount() {
    return (int) workers.values().stream().filter(w -> w.state().acceptsWork()).count();
  }

  /**
   * True if the worker's last heartbeat, younger than a lease, lists the request and the worker
   * is not lost: its lease would still be alive had Redis kept it, so the lease is restored
   * rather than the request re-queued.
   */
  public boolean stillRuns(String workerId, String requestId) {
    KnownWorker worker = workerId == null ? null : workers.get(workerId);
    return worker != null && !worker.state().isLost() && worker.activeRequests().contains(requestId)
        && Duration.between(worker.lastSeen(), clock.instant()).toMillis() < leaseMs;
  }
}
