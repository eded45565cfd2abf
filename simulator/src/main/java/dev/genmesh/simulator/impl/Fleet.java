package dev.genmesh.simulator.impl;

import dev.genmesh.autoscaler.ScalingObservation.PoolState;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The region's workers per pool: their states, the idle ones by model family, and what they
 * cost. Billing counts starting, ready and draining workers, only inside the measured day.
 */
final class Fleet {
  private final RegionLayout layout;
  private final double dayEnd;
  private final List<List<SimulatedWorker>> workers = new ArrayList<>();
  private final ArrayDeque<SimulatedWorker>[][] idle;
  final int[] starting;
  final int[] idleCount;
  final int[] busy;
  final int[] draining;
  /** Per pool, the generation times of the last {@link #SERVICE_WINDOW_S}, in buckets of {@link #SERVICE_BUCKET_S}. */
  private final ServiceWindow[] serviceTimes;
  /** [pool][family]: workers (starting or ready, not draining) holding the family. */
  private final int[][] holders;
  private final double[] lastTouch;
  private final double[] busyArea;
  private final double[] readyArea;
  private final double[] billedArea;
  private int nextWorkerId;

  @SuppressWarnings("unchecked")
  Fleet(RegionLayout layout, double start, double dayEnd) {
    this.layout = layout;
    this.dayEnd = dayEnd;
    int pools = layout.pools.length;
    idle = new ArrayDeque[pools][layout.families.length];
    for (int p = 0; p < pools; p++) {
      workers.add(new ArrayList<>());
      for (int f = 0; f < layout.families.length; f++) {
        idle[p][f] = new ArrayDeque<>();
      }
    }
    starting = new int[pools];
    idleCount = new int[pools];
    busy = new int[pools];
    draining = new int[pools];
    serviceTimes = new ServiceWindow[pools];
    for (int p = 0; p < pools; p++) {
      serviceTimes[p] = new ServiceWindow();
    }
    holders = new int[pools][layout.families.length];
    lastTouch = new double[pools];
    java.util.Arrays.fill(lastTouch, start);
    busyArea = new double[pools];
    readyArea = new double[pools];
    billedArea = new double[pools];
  }

  List<SimulatedWorker> workers(int pool) {
    return workers.get(pool);
  }

  /** Starting or ready workers that are not draining: what the actuator's count means. */
  int live(int pool) {
    return starting[pool] + idleCount[pool] + busy[pool] - draining[pool];
  }

  /** Integrates the pool's busy, ready and billed worker-seconds up to {@code now}. Call before any count changes. */
  void touch(int pool, double now) {
    double dt = now - lastTouch[pool];
    if (dt > 0) {
      int ready = idleCount[pool] + busy[pool];
      busyArea[pool] += (busy[pool] - draining[pool]) * dt;
      readyArea[pool] += (ready - draining[pool]) * dt;
      double from = Math.max(lastTouch[pool], 0);
      double to = Math.min(now, dayEnd);
      if (to > from) {
        billedArea[pool] += (starting[pool] + ready) * (to - from);
      }
    }
    lastTouch[pool] = now;
  }

  SimulatedWorker start(int pool, int family, double now, double readyAt) {
    touch(pool, now);
    SimulatedWorker worker = new SimulatedWorker(nextWorkerId++, pool, family);
    worker.readyAt = readyAt;
    workers.get(pool).add(worker);
    starting[pool]++;
    holders[pool][family]++;
    return worker;
  }

  /** A starting worker is ready (false: it was cancelled meanwhile). */
  boolean ready(SimulatedWorker worker, double now) {
    if (worker.state != SimulatedWorker.State.STARTING) {
      return false;
    }
    touch(worker.pool, now);
    starting[worker.pool]--;
    idleCount[worker.pool]++;
    worker.state = SimulatedWorker.State.IDLE;
    return true;
  }

  void busy(SimulatedWorker worker, double now, double generationSeconds) {
    touch(worker.pool, now);
    if (worker.idleListed) {
      idle[worker.pool][worker.family].remove(worker);
      worker.idleListed = false;
    }
    idleCount[worker.pool]--;
    busy[worker.pool]++;
    worker.state = SimulatedWorker.State.BUSY;
    serviceTimes[worker.pool].add(now, generationSeconds);
  }

  /** Workers of the pool holding the family (starting or ready, not draining). */
  int holders(int pool, int family) {
    return holders[pool][family];
  }

  /** The worker loads another family (it is busy: the swap is part of its next service). */
  void swapped(SimulatedWorker worker, int family) {
    holders[worker.pool][worker.family]--;
    holders[worker.pool][family]++;
    worker.family = family;
  }

  /** A worker finished its request; false when it was draining and has now left. */
  boolean finished(SimulatedWorker worker, double now) {
    touch(worker.pool, now);
    worker.running = null;
    busy[worker.pool]--;
    if (worker.state == SimulatedWorker.State.DRAINING) {
      draining[worker.pool]--;
      terminate(worker);
      return false;
    }
    worker.state = SimulatedWorker.State.IDLE;
    idleCount[worker.pool]++;
    return true;
  }

  void listIdle(SimulatedWorker worker) {
    if (!worker.idleListed) {
      idle[worker.pool][worker.family].addLast(worker);
      worker.idleListed = true;
    }
  }

  /** An idle worker of the pool holding the family, or null. */
  SimulatedWorker pollIdle(int pool, int family) {
    ArrayDeque<SimulatedWorker> deque = idle[pool][family];
    while (!deque.isEmpty()) {
      SimulatedWorker worker = deque.pollFirst();
      worker.idleListed = false;
      if (worker.state == SimulatedWorker.State.IDLE && worker.family == family) {
        return worker;
      }
    }
    return null;
  }

  /** Starting workers first (latest first), then idle ones by the family order, then busy ones (they drain). */
  void drainSurplus(int pool, int surplus, List<Integer> familyOrder, double now) {
    touch(pool, now);
    List<SimulatedWorker> candidates = new ArrayList<>();
    List<SimulatedWorker> all = workers.get(pool);
    for (int i = all.size() - 1; i >= 0; i--) {
      if (all.get(i).state == SimulatedWorker.State.STARTING) {
        candidates.add(all.get(i));
      }
    }
    for (SimulatedWorker.State state : new SimulatedWorker.State[] {SimulatedWorker.State.IDLE, SimulatedWorker.State.BUSY}) {
      for (int f : familyOrder) {
        for (SimulatedWorker worker : all) {
          if (worker.state == state && worker.family == f) {
            candidates.add(worker);
          }
        }
      }
    }
    for (int i = 0; i < surplus && i < candidates.size(); i++) {
      drain(candidates.get(i), now);
    }
  }

  void drain(SimulatedWorker worker, double now) {
    int pool = worker.pool;
    touch(pool, now);
    switch (worker.state) {
      case STARTING -> {
        starting[pool]--;
        holders[pool][worker.family]--;
        terminate(worker);
      }
      case IDLE -> {
        idleCount[pool]--;
        holders[pool][worker.family]--;
        terminate(worker);
      }
      case BUSY -> {
        worker.state = SimulatedWorker.State.DRAINING;
        draining[pool]++;
        holders[pool][worker.family]--;
      }
      default -> { }
    }
  }

  private void terminate(SimulatedWorker worker) {
    worker.state = SimulatedWorker.State.GONE;
    workers.get(worker.pool).remove(worker);
  }

  /** The pool as the policy sees it; resets the utilisation window. */
  PoolState observe(int pool, double now) {
    touch(pool, now);
    Map<String, Integer> loaded = new TreeMap<>();
    for (SimulatedWorker worker : workers.get(pool)) {
      if (worker.state != SimulatedWorker.State.DRAINING) {
        loaded.merge(layout.families[worker.family], 1, Integer::sum);
      }
    }
    double utilisation = readyArea[pool] > 0 ? busyArea[pool] / readyArea[pool] : Double.NaN;
    busyArea[pool] = 0;
    readyArea[pool] = 0;
    return new PoolState(idleCount[pool] + busy[pool] - draining[pool], starting[pool], draining[pool], utilisation,
        Math.round(serviceTimes[pool].mean(now) * 1000), loaded);
  }

  /** Billed workers per pool now. */
  int[] billed() {
    int[] out = new int[layout.pools.length];
    for (int p = 0; p < out.length; p++) {
      out[p] = starting[p] + idleCount[p] + busy[p];
    }
    return out;
  }

  Map<String, Double> gpuHours(double now) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (int p = 0; p < layout.pools.length; p++) {
      touch(p, now);
      out.put(layout.pools[p], billedArea[p] / 3600);
    }
    return out;
  }
}
