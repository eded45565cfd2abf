package dev.genmesh.simulator.impl;

import static dev.genmesh.simulator.impl.RegionLayout.TIERS;

import dev.genmesh.autoscaler.Actuator;
import dev.genmesh.autoscaler.ScalePlan;
import dev.genmesh.autoscaler.ScalingObservation.PoolState;
import dev.genmesh.autoscaler.ScalingObservation.QueueStat;
import dev.genmesh.autoscaler.ScalingObservation;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.Tier;
import dev.genmesh.simulator.SimulationSettings;
import dev.genmesh.simulator.TierOutcome;
import dev.genmesh.simulator.TrafficShape;
import io.vertx.core.Future;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A discrete-event model of one region: Poisson arrivals by tier, model family and request class;
 * tier queues dispatched strictly turbo, fast, relax except every tenth dispatch, which goes to
 * relax while it has work (region-node/API.md); workers per GPU pool ({@link Fleet}) that serve one
 * request at a time and prefer the model family they hold; cold starts; drains. It is also the
 * {@link Actuator} the policy's decisions go to. Time is in seconds since the start of the
 * measured day.
 */
public final class SimulatedRegion implements Actuator {
  /** Every tenth dispatch prefers relax ({@code queue.relax_share} 0.10). */
  private static final int RELAX_EVERY = 10;
  /** A worker changes its model family at most this often. */
  static final double SWAP_COOLDOWN_S = 300;

  private final SimulationSettings settings;
  private final TrafficShape traffic;
  private final SplittableRandom random;
  private final double dayEnd;
  private final RegionLayout layout;
  private final Fleet fleet;

  private final ArrayDeque<SimulatedRequest>[][][] queues;
  private final int[][] depth;
  private final double[][] arrivalSum;
  private long dispatches;
  long swaps;

  private final ArrivalWindow arrivalWindow;
  private final WaitStats[] waits = new WaitStats[TIERS];
  private final MinuteSample minute = new MinuteSample();
  private long countedArrivals;
  private long countedWaiting;

  private final EventQueue events = new EventQueue();
  private double tickSeconds;
  private double now;
  private double nextArrival;

  @SuppressWarnings("unchecked")
  public SimulatedRegion(GenmeshConfig config, SimulationSettings settings, TrafficShape traffic, double start,
      double dayEnd) {
    this.settings = settings;
    this.traffic = traffic;
    this.random = new SplittableRandom(settings.seed());
    this.dayEnd = dayEnd;
    this.layout = new RegionLayout(config, settings);
    this.fleet = new Fleet(layout, start, dayEnd);
    this.now = start;
    int classes = layout.classes.length;
    queues = new ArrayDeque[TIERS][classes][layout.families.length];
    for (ArrayDeque<SimulatedRequest>[][] byClass : queues) {
      for (ArrayDeque<SimulatedRequest>[] byFamily : byClass) {
        for (int f = 0; f < byFamily.length; f++) {
          byFamily[f] = new ArrayDeque<>();
        }
      }
    }
    depth = new int[TIERS][classes];
    arrivalSum = new double[TIERS][classes];
    arrivalWindow = new ArrivalWindow(classes);
    for (Tier tier : Tier.values()) {
      waits[tier.ordinal()] = new WaitStats(tier.wireName(), layout.tierTargetSeconds[tier.ordinal()]);
    }
  }


  /**
   * Runs from the start (the warm-up) until the day is over and every request of the day has been
   * dispatched, or {@code hardEnd}; a policy tick every {@code tickSeconds}, a sample every minute.
   */
  public void run(double tickSeconds, double hardEnd, SimulationHooks hooks) {
    this.tickSeconds = tickSeconds;
    nextArrival = now + interArrival(now);
    events.push(now, EventQueue.TICK, null);
    events.push(Math.ceil(now / 60) * 60, EventQueue.SAMPLE, null);
    while (true) {
      double heapTime = events.peekTime();
      now = Math.min(nextArrival, heapTime);
      if (now >= hardEnd) {
        break;
      }
      if (nextArrival <= heapTime) {
        arrive();
        nextArrival = now + interArrival(now);
        continue;
      }
      int type = events.peekType();
      SimulatedWorker worker = events.pop();
      switch (type) {
        case EventQueue.DONE -> finish(worker);
        case EventQueue.READY -> {
          if (fleet.ready(worker, now)) {
            takeWork(worker);
          }
        }
        case EventQueue.TICK -> {
          hooks.tick(now);
          events.push(now + tickSeconds, EventQueue.TICK, null);
        }
        case EventQueue.SAMPLE -> {
          if (now >= 0 && now <= dayEnd) {
            hooks.sample(now);
          }
          events.push(now + 60, EventQueue.SAMPLE, null);
        }
        default -> throw new IllegalStateException("event " + type);
      }
      if (now >= dayEnd && countedWaiting == 0) {
        break;
      }
    }
  }

  private double interArrival(double t) {
    double rate = Math.max(1e-6, settings.arrivalRate(traffic, t));
    return -Math.log(1 - random.nextDouble()) / rate;
  }

  private void arrive() {
    int tier = pick(layout.tierCumulative);
    int family = pick(layout.familyCumulative);
    int requestClass = layout.familyClasses[family][pick(layout.classCumulative[family])];
    boolean counted = now >= 0 && now < dayEnd;
    SimulatedRequest request = new SimulatedRequest(now, tier, requestClass, family, counted);
    arrivalWindow.arrived(requestClass, tier);
    if (counted) {
      countedArrivals++;
      minute.arrived();
    }
    for (int p : layout.eligible[requestClass]) { // an idle worker holding its family, preferred pools first
      SimulatedWorker worker = fleet.pollIdle(p, family);
      if (worker != null) {
        serve(worker, request);
        return;
      }
    }
    queues[tier][requestClass][family].addLast(request);
    depth[tier][requestClass]++;
    arrivalSum[tier][requestClass] += now;
    if (counted) {
      countedWaiting++;
    }
  }

  private int pick(double[] cumulative) {
    double u = random.nextDouble() * cumulative[cumulative.length - 1];
    for (int i = 0; i < cumulative.length; i++) {
      if (u < cumulative[i]) {
        return i;
      }
    }
    return cumulative.length - 1;
  }

  private void serve(SimulatedWorker worker, SimulatedRequest request) {
    double generation = layout.serviceSeconds[request.requestClass][request.family][worker.pool]
        * (0.85 + 0.30 * random.nextDouble());
    fleet.busy(worker, now, generation);
    worker.running = request;
    double swap = 0;
    if (worker.family != request.family) {
      swaps++;
      swap = settings.swapMs() / 1000.0;
      fleet.swapped(worker, request.family);
      worker.lastSwap = now;
    }
    dispatches++;
    if (request.counted) {
      double wait = now - request.arrival;
      waits[request.tier].add(wait);
      minute.dispatched(request.tier, wait);
    }
    events.push(now + swap + generation, EventQueue.DONE, worker);
  }

  private void finish(SimulatedWorker worker) {
    if (fleet.finished(worker, now)) {
      takeWork(worker);
    }
  }

  /**
   * The worker's next request, tier by tier (every tenth dispatch relax first): the oldest of its
   * own model family; failing that, another family's oldest of the same tier if it has waited a
   * quarter of the tier's target, the worker has not changed family in the last
   * {@value #SWAP_COOLDOWN_S} s and is not the pool's last holder of its own (it loads that
   * family: a swap). Model placement follows demand
   * slowly, as a real region's would, instead of thrashing per request; a waiting turbo request
   * of another family still beats this family's relax backlog.
   */
  private void takeWork(SimulatedWorker worker) {
    boolean relaxFirst = dispatches % RELAX_EVERY == RELAX_EVERY - 1;
    boolean maySwap = now - worker.lastSwap >= SWAP_COOLDOWN_S && fleet.holders(worker.pool, worker.family) > 1;
    SimulatedRequest next = null;
    for (int k = 0; k < TIERS && next == null; k++) {
      int tier = relaxFirst ? (k + TIERS - 1) % TIERS : k;
      next = oldest(worker, tier, true);
      if (next == null && maySwap) {
        SimulatedRequest other = oldest(worker, tier, false);
        if (other != null && now - other.arrival >= layout.tierTargetSeconds[tier] / 4) {
          next = other;
        }
      }
    }
    if (next == null) {
      fleet.listIdle(worker);
      return;
    }
    queues[next.tier][next.requestClass][next.family].pollFirst();
    depth[next.tier][next.requestClass]--;
    arrivalSum[next.tier][next.requestClass] -= next.arrival;
    if (next.counted) {
      countedWaiting--;
    }
    serve(worker, next);
  }

  private SimulatedRequest oldest(SimulatedWorker worker, int tier, boolean ownFamily) {
    SimulatedRequest best = null;
    for (int c : layout.poolClasses[worker.pool]) {
      if (depth[tier][c] == 0) {
        continue;
      }
      for (int f = 0; f < layout.families.length; f++) {
        if ((f == worker.family) != ownFamily) {
          continue;
        }
        SimulatedRequest head = queues[tier][c][f].peekFirst();
        if (head != null && (best == null || head.arrival < best.arrival)) {
          best = head;
        }
      }
    }
    return best;
  }

  /** Idle workers look again: another family's request may have waited long enough for a swap. */
  public void revisitIdle() {
    for (int p = 0; p < layout.pools.length; p++) {
      for (SimulatedWorker worker : new ArrayList<>(fleet.workers(p))) {
        if (worker.state == SimulatedWorker.State.IDLE) {
          takeWork(worker);
        }
      }
    }
  }


  @Override
  public Future<Void> scaleTo(String poolName, int count, ScalePlan plan) {
    int pool = layout.poolIndex.get(poolName);
    int live = fleet.live(pool);
    if (count > live) {
      List<Integer> planned = new ArrayList<>();
      plan.warmModels().forEach((family, n) -> {
        int f = layout.familyIndex(family);
        for (int i = 0; i < n && f >= 0; i++) {
          planned.add(f);
        }
      });
      for (int i = 0; i < count - live; i++) {
        double coldStart = settings.coldStartMs() / 1000.0 * (0.8 + 0.4 * random.nextDouble());
        SimulatedWorker worker = fleet.start(pool, i < planned.size() ? planned.get(i) : layout.defaultFamily[pool], now,
            now + coldStart);
        events.push(worker.readyAt, EventQueue.READY, worker);
      }
    } else if (count < live) {
      List<Integer> order = new ArrayList<>();
      plan.drainModels().forEach(family -> order.add(layout.familyIndex(family)));
      for (int f = 0; f < layout.families.length; f++) {
        if (!order.contains(f)) {
          order.add(f);
        }
      }
      fleet.drainSurplus(pool, live - count, order, now);
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> drain(String poolName, String workerId) {
    int pool = layout.poolIndex.get(poolName);
    for (SimulatedWorker worker : new ArrayList<>(fleet.workers(pool))) {
      if (String.valueOf(worker.id).equals(workerId)) {
        fleet.drain(worker, now);
      }
    }
    return Future.succeededFuture();
  }


  /** The observation of a tick: pools, and per queue depth, mean age and the last minute's arrivals. */
  public ScalingObservation observe(Instant time) {
    Map<String, PoolState> pools = new LinkedHashMap<>();
    for (int p = 0; p < layout.pools.length; p++) {
      pools.put(layout.pools[p], fleet.observe(p, now));
    }
    double[][] rates = arrivalWindow.closeTick(tickSeconds);
    Map<String, Map<Tier, QueueStat>> queueStats = new LinkedHashMap<>();
    for (int c = 0; c < layout.classes.length; c++) {
      Map<Tier, QueueStat> tiers = new EnumMap<>(Tier.class);
      for (Tier tier : Tier.values()) {
        int t = tier.ordinal();
        int d = depth[t][c];
        long waitMs = d == 0 ? 0 : Math.round((now - arrivalSum[t][c] / d) * 1000);
        tiers.put(tier, new QueueStat(d, waitMs, rates[c][t]));
      }
      queueStats.put(layout.classes[c], tiers);
    }
    return new ScalingObservation(time, pools, queueStats, List.of());
  }


  double[] pricePerHour() {
    return layout.pricePerHour;
  }

  int[] billedWorkers() {
    return fleet.billed();
  }

  int[] tierDepths() {
    int[] out = new int[TIERS];
    for (int t = 0; t < TIERS; t++) {
      for (int d : depth[t]) {
        out[t] += d;
      }
    }
    return out;
  }

  /** The minute's dispatch waits ([0] mean, [1] max per tier) and arrivals per second ([2][0]); resets them. */
  double[][] takeMinute() {
    return minute.take();
  }

  /** Each tier's outcome; a request of the day still waiting at the end counts with its age. */
  List<TierOutcome> outcomes() {
    for (int t = 0; t < TIERS; t++) {
      for (ArrayDeque<SimulatedRequest>[] byFamily : queues[t]) {
        for (ArrayDeque<SimulatedRequest> queue : byFamily) {
          for (SimulatedRequest request : queue) {
            if (request.counted) {
              waits[t].add(now - request.arrival);
            }
          }
        }
      }
    }
    List<TierOutcome> out = new ArrayList<>();
    for (WaitStats stats : waits) {
      out.add(stats.outcome());
    }
    return out;
  }

  Map<String, Double> gpuHours() {
    return fleet.gpuHours(now);
  }

  long countedArrivals() {
    return countedArrivals;
  }
}
