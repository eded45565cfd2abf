package dev.genmesh.launcher.impl;

import dev.genmesh.inference.InferenceVerticle;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.region.autoscale.Actuator;
import dev.genmesh.region.autoscale.ScalePlan;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The actuator of {@code genmesh up --autoscale}: CPU inference workers in this process, each on a
 * clustered Vert.x member of its own (as a worker process would be), started and stopped per
 * pool. Scale up starts workers that warm up before they claim (the worker's own start-up);
 * scale down sends {@link Addresses#drain} to the workers still warming up first, then to the
 * idle ones, then to the rest, and closes a member once its worker has drained and undeployed
 * itself. Only the pool of this machine's worker GPU class ({@code worker.gpu_class}) can be
 * served; other pools are logged and left alone. Runs on the region node's event loop.
 */
public final class LocalWorkerActuator implements Actuator {
  private static final Logger LOG = LoggerFactory.getLogger(LocalWorkerActuator.class);
  private static final long REAP_INTERVAL_MS = 250;

  /** Starts one worker on a member of its own; the future completes once it is deployed (it may still warm up). */
  @FunctionalInterface
  public interface WorkerStarter {
    Future<Started> start(String workerId);
  }

  /** A started worker: its member and its deployment there. */
  public record Started(Vertx member, InferenceVerticle worker, String deploymentId) {}

  private static final class Local {
    final String id;
    Started started;
    boolean draining;
    boolean closing;

    Local(String id) {
      this.id = id;
    }
  }

  private final Vertx node;
  private final String region;
  private final String prefix;
  private final String pool;
  private final long drainDeadlineMs;
  private final WorkerStarter starter;
  private final Map<String, Local> workers = new LinkedHashMap<>();
  private final AtomicInteger sequence = new AtomicInteger();
  private long reapTimer = -1;

  /**
   * @param node the region node's member (drain messages and timers)
   * @param prefix worker ids are {@code <prefix>-as-<n>}
   * @param pool the one pool this actuator can serve (the local worker's GPU class)
   */
  public LocalWorkerActuator(Vertx node, String region, String prefix, String pool, long drainDeadlineMs,
      WorkerStarter starter) {
    this.node = node;
    this.region = region;
    this.prefix = prefix;
    this.pool = pool;
    this.drainDeadlineMs = drainDeadlineMs;
    this.starter = starter;
  }

  @Override
  public synchronized Future<Void> scaleTo(String pool, int count, ScalePlan plan) {
    if (!this.pool.equals(pool)) {
      if (count > 0) {
        LOG.info("{}: pool {} cannot run here (only {}); {} workers asked for, none started", region, pool, this.pool, count);
      }
      return Future.succeededFuture();
    }
    ensureReaper();
    List<Local> live = workers.values().stream().filter(w -> !w.draining).toList();
    if (live.size() < count) {
      for (int i = live.size(); i < count; i++) {
        start();
      }
    } else if (live.size() > count) {
      List<Local> order = new ArrayList<>(live);
      // Warming up first (no work lost), then the idle, then the busiest last.
      order.sort(Comparator.comparingInt(LocalWorkerActuator::drainRank));
      order.subList(0, live.size() - count).forEach(this::sendDrain);
    }
    return Future.succeededFuture();
  }

  @Override
  public synchronized Future<Void> drain(String pool, String workerId) {
    Local local = workers.get(workerId);
    if (local != null && !local.draining) {
      sendDrain(local);
    }
    return Future.succeededFuture();
  }

  /** Workers started and not yet gone (draining ones included). */
  public synchronized List<String> workerIds() {
    return List.copyOf(workers.keySet());
  }

  /** Stops every worker at once (shutdown); what they run is re-queued when their leases lapse. */
  public Future<Void> close() {
    List<Local> all;
    synchronized (this) {
      if (reapTimer >= 0) {
        node.cancelTimer(reapTimer);
        reapTimer = -1;
      }
      all = List.copyOf(workers.values());
      workers.clear();
    }
    return Future.join(all.stream().filter(w -> w.started != null).map(w -> w.started.member().close()).toList())
        .transform(ar -> Future.succeededFuture());
  }

  private static int drainRank(Local local) {
    if (local.started == null || !local.started.worker().ready()) {
      return 0;
    }
    return local.started.worker().loadedAdapters().isEmpty() ? 1 : 2;
  }

  private void start() {
    String id = prefix + "-as-" + sequence.incrementAndGet();
    Local local = new Local(id);
    workers.put(id, local);
    LOG.info("{}: starting worker {} (pool {})", region, id, pool);
    starter.start(id).onComplete(ar -> {
      synchronized (this) {
        if (ar.failed()) {
          LOG.warn("{}: worker {} did not start: {}", region, id, ar.cause().toString());
          workers.remove(id);
          return;
        }
        local.started = ar.result();
        if (local.draining || !workers.containsKey(id)) {
          sendDrain(local);
        }
      }
    });
  }

  private void sendDrain(Local local) {
    local.draining = true;
    if (local.started == null) {
      return; // drained as soon as it is deployed
    }
    LOG.info("{}: draining worker {}", region, local.id);
    node.eventBus().request(Addresses.drain(region, local.id),
            new JsonObject().put("worker_id", local.id).put("deadline_ms", drainDeadlineMs),
            new DeliveryOptions().setSendTimeout(5000))
        .onFailure(err -> LOG.warn("{}: worker {} did not take the drain ({}); it is stopped when its deadline passes",
            region, local.id, err.toString()));
  }

  /** Closes the members of workers that drained and undeployed themselves (or outlived their deadline by far). */
  private void ensureReaper() {
    if (reapTimer < 0) {
      reapTimer = node.setPeriodic(REAP_INTERVAL_MS, id -> reap());
    }
  }

  private synchronized void reap() {
    for (Local local : List.copyOf(workers.values())) {
      if (!local.draining || local.started == null || local.closing) {
        continue;
      }
      if (!local.started.member().deploymentIDs().contains(local.started.deploymentId())) {
        local.closing = true;
        LOG.info("{}: worker {} drained; closing its member", region, local.id);
        local.started.member().close().onComplete(ar -> {
          synchronized (this) {
            workers.remove(local.id);
          }
        });
      }
    }
  }
}
