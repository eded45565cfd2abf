package dev.genmesh.launcher.scaling;

import dev.genmesh.autoscaler.Actuator;
import dev.genmesh.autoscaler.ScalePlan;
import dev.genmesh.launcher.scaling.impl.WorkerProcesses;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.region.workers.KnownWorker;
import dev.genmesh.region.workers.WorkerState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The actuator of {@code genmesh up --autoscale}: CPU inference workers as {@code genmesh worker}
 * processes of this machine ({@link WorkerProcesses}), started and stopped per pool. Scale up
 * starts processes that join the region's cluster and warm up before they claim (the worker's
 * own start-up). Scale down sends {@link Addresses#drain} (again each pass until the worker takes
 * it: a process just started has no consumer yet), in the order the region's worker registry
 * gives: not ready (starting) or unhealthy first, then idle, then the busy ones with the fewest
 * requests; a drained worker exits by itself, and the actuator forgets a worker when its process
 * exits. A process still alive past its drain deadline plus {@link #TERMINATE_GRACE} gets SIGTERM,
 * and SIGKILL after {@link #KILL_GRACE} more. Only the pool of this machine's worker GPU class
 * ({@code worker.gpu_class}) can be served; other pools are logged and left alone. Runs in the
 * region node's process, on its event loop.
 */
public final class LocalWorkerActuator implements Actuator {
  private static final Logger LOG = LoggerFactory.getLogger(LocalWorkerActuator.class);
  private static final long PASS_INTERVAL_MS = 1000;
  static final Duration TERMINATE_GRACE = Duration.ofSeconds(30);
  static final Duration KILL_GRACE = Duration.ofSeconds(10);

  /** Starts one worker process; the future completes once it is forked (it may still join and warm up). */
  @FunctionalInterface
  public interface WorkerStarter {
    Future<Process> start(String workerId);
  }

  private static final class Local {
    final String id;
    Process process;
    boolean draining;
    boolean drainTaken;
    boolean drainInFlight;
    long drainSinceMs = -1;
    long terminatedAtMs = -1;

    Local(String id) {
      this.id = id;
    }
  }

  private final Vertx node;
  private final String region;
  private final String prefix;
  private final String pool;
  private final long drainDeadlineMs;
  private final Supplier<? extends Collection<KnownWorker>> known;
  private final WorkerStarter starter;
  private final Function<String, Path> logOf;
  private final Clock clock;
  private final Map<String, Local> workers = new LinkedHashMap<>();
  private final AtomicInteger sequence = new AtomicInteger();
  private long passTimer = -1;
  private boolean closed;

  /**
   * @param node the region node's Vert.x (drain messages, timers)
   * @param prefix worker ids are {@code <prefix>-as-<n>}
   * @param pool the one pool this actuator can serve (the local worker's GPU class)
   * @param known the region's worker registry (e.g. {@code RegionNodeVerticle::knownWorkers}): the drain order
   * @param logOf where a worker's output goes (named in the log lines)
   */
  public LocalWorkerActuator(Vertx node, String region, String prefix, String pool, long drainDeadlineMs,
      Supplier<? extends Collection<KnownWorker>> known, WorkerStarter starter, Function<String, Path> logOf,
      Clock clock) {
    this.node = node;
    this.region = region;
    this.prefix = prefix;
    this.pool = pool;
    this.drainDeadlineMs = drainDeadlineMs;
    this.known = known;
    this.starter = starter;
    this.logOf = logOf;
    this.clock = clock;
  }

  @Override
  public synchronized Future<Void> scaleTo(String pool, int count, ScalePlan plan) {
    if (!this.pool.equals(pool)) {
      if (count > 0) {
        LOG.info("{}: pool {} cannot run here (only {}); {} workers asked for, none started", region, pool, this.pool, count);
      }
      return Future.succeededFuture();
    }
    if (closed) {
      return Future.succeededFuture();
    }
    ensurePasses();
    List<Local> live = workers.values().stream().filter(w -> !w.draining).toList();
    if (live.size() < count) {
      for (int i = live.size(); i < count; i++) {
        start();
      }
    } else if (live.size() > count) {
      drainOrder(live).subList(0, live.size() - count).forEach(this::beginDrain);
    }
    return Future.succeededFuture();
  }

  @Override
  public synchronized Future<Void> drain(String pool, String workerId) {
    Local local = workers.get(workerId);
    if (local != null && !local.draining) {
      beginDrain(local);
    }
    return Future.succeededFuture();
  }

  /** Workers started and not yet exited (draining ones included). */
  public synchronized List<String> workerIds() {
    return List.copyOf(workers.keySet());
  }

  /** Process ids of the workers' processes running now, by worker id (a worker still being forked has none). */
  public synchronized Map<String, Long> workerPids() {
    Map<String, Long> pids = new LinkedHashMap<>();
    workers.values().stream().filter(w -> w.process != null).forEach(w -> pids.put(w.id, w.process.pid()));
    return pids;
  }

  /**
   * Stops every worker process (shutdown), blocking: SIGTERM (a worker's shutdown hook leaves the
   * cluster), then SIGKILL for any still alive after {@code grace}. What they ran is re-queued
   * when its leases lapse. Call it off the event loop.
   */
  public void close(Duration grace) {
    List<Process> processes;
    synchronized (this) {
      closed = true;
      if (passTimer >= 0) {
        node.cancelTimer(passTimer);
        passTimer = -1;
      }
      processes = workers.values().stream().filter(w -> w.process != null).map(w -> w.process).toList();
    }
    processes.forEach(Process::destroy);
    long deadline = System.nanoTime() + grace.toNanos();
    for (Process process : processes) {
      try {
        long left = Math.max(0, deadline - System.nanoTime());
        if (!process.waitFor(left, TimeUnit.NANOSECONDS)) {
          LOG.warn("{}: worker process {} did not stop within {} s; killing it", region, process.pid(), grace.toSeconds());
          process.destroyForcibly();
          process.waitFor(KILL_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
  }

  /** Starting or unhealthy first (no useful work lost), then idle, then busy with the fewest requests. */
  private List<Local> drainOrder(List<Local> live) {
    Map<String, KnownWorker> byId = known.get().stream()
        .collect(Collectors.toMap(KnownWorker::workerId, w -> w, (a, b) -> b));
    List<Local> order = new ArrayList<>(live);
    order.sort(Comparator.<Local>comparingInt(w -> rank(byId.get(w.id)))
        .thenComparingInt(w -> byId.containsKey(w.id) ? byId.get(w.id).activeRequests().size() : 0)
        .thenComparing(w -> w.id));
    return order;
  }

  private static int rank(KnownWorker worker) {
    if (worker == null || worker.state() != WorkerState.HEALTHY) {
      return 0;
    }
    return worker.activeRequests().isEmpty() ? 1 : 2;
  }

  private void start() {
    String id = prefix + "-as-" + sequence.incrementAndGet();
    Local local = new Local(id);
    workers.put(id, local);
    starter.start(id).onComplete(ar -> {
      synchronized (this) {
        if (ar.failed()) {
          LOG.warn("{}: worker {} did not start: {}", region, id, ar.cause().toString());
          workers.remove(id);
          return;
        }
        Process process = ar.result();
        local.process = process;
        LOG.info("{}: started worker {} (pool {}, pid {}, output in {})", region, id, pool, process.pid(), logOf.apply(id));
        process.onExit().thenAccept(p -> exited(local, p.exitValue()));
        if (closed) {
          process.destroy();
        }
      }
    });
  }

  private synchronized void exited(Local local, int code) {
    workers.remove(local.id);
    if (closed) {
      return;
    }
    if (local.draining) {
      LOG.info("{}: worker {} drained and exited (code {})", region, local.id, code);
    } else {
      LOG.warn("{}: worker {} exited unexpectedly (code {}); its output is in {}", region, local.id, code,
          logOf.apply(local.id));
    }
  }

  private void beginDrain(Local local) {
    local.draining = true;
    local.drainSinceMs = clock.millis();
    LOG.info("{}: draining worker {}", region, local.id);
    sendDrain(local);
  }

  private void sendDrain(Local local) {
    if (local.process == null || local.drainTaken || local.drainInFlight) {
      return; // not forked yet, or already told: the next pass (re)sends
    }
    local.drainInFlight = true;
    node.eventBus().request(Addresses.drain(region, local.id),
            new JsonObject().put("worker_id", local.id).put("deadline_ms", drainDeadlineMs),
            new DeliveryOptions().setSendTimeout(5000))
        .onComplete(ar -> {
          synchronized (this) {
            local.drainInFlight = false;
            local.drainTaken |= ar.succeeded();
            if (ar.failed()) {
              LOG.debug("{}: worker {} did not take the drain yet ({}); sent again", region, local.id, ar.cause().toString());
            }
          }
        });
  }

  private void ensurePasses() {
    if (passTimer < 0) {
      passTimer = node.setPeriodic(PASS_INTERVAL_MS, id -> pass());
    }
  }

  /** Re-sends drains not taken yet; stops processes that outlived their drain deadline by far. */
  private synchronized void pass() {
    long now = clock.millis();
    for (Local local : List.copyOf(workers.values())) {
      if (!local.draining || local.process == null) {
        continue;
      }
      sendDrain(local);
      long terminateAt = local.drainSinceMs + drainDeadlineMs + TERMINATE_GRACE.toMillis();
      if (local.terminatedAtMs < 0 && now >= terminateAt) {
        LOG.warn("{}: worker {} still runs {} s past its drain deadline; stopping it (SIGTERM)", region, local.id,
            TERMINATE_GRACE.toSeconds());
        local.terminatedAtMs = now;
        local.process.destroy();
      } else if (local.terminatedAtMs >= 0 && now >= local.terminatedAtMs + KILL_GRACE.toMillis()) {
        LOG.warn("{}: worker {} ignored SIGTERM; killing it", region, local.id);
        local.process.destroyForcibly();
      }
    }
  }
}
