package dev.genmesh.autoscaler.impl;

import dev.genmesh.autoscaler.ModelPlanner;
import dev.genmesh.autoscaler.Replacement;
import dev.genmesh.autoscaler.ScalePlan;
import dev.genmesh.autoscaler.ScalingObservation;
import dev.genmesh.autoscaler.ScalingPolicy;
import dev.genmesh.autoscaler.TrafficForecast.Prediction;
import dev.genmesh.autoscaler.TrafficForecast;
import dev.genmesh.config.AutoscalingConfig.PoolBounds;
import dev.genmesh.config.AutoscalingConfig.Trigger;
import dev.genmesh.config.AutoscalingConfig;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.scaling.ScalingDecision;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The design's scaling policy, per GPU pool: each trigger fires only once its condition has held
 * for its whole window (docs/architecture.md, "Design numbers and where they live"). The size of a step comes from the design's steps and from the pool's desired size
 * (predicted demand at each tier's target utilisation plus its backlog, at least the tier
 * reservations), so a scale-down never undershoots into the next scale-up. In order, each
 * evaluation: replacements, the pool bounds and tier minimums, scale-ups (most urgent first),
 * scale-downs, then the region-wide min and max. A scale-down waits while any scale-up condition
 * holds, even one whose window is still running.
 */
public final class SustainedTriggerPolicy implements ScalingPolicy {
  private static final Logger LOG = LoggerFactory.getLogger(SustainedTriggerPolicy.class);
  /**
   * A scale-down stops where the predicted load would be this share of the up-trigger's
   * threshold: 1.0, at the threshold itself (the trigger needs more than it). It was 0.95, a
   * margin against noise in the prediction; the smoothed arrivals ({@link ArrivalsNow}) took
   * that noise out, and the margin only held pools larger (docs/autoscaling.md, "Where the design
   * policy spends more than the clairvoyant").
   */
  static final double SCALE_DOWN_MARGIN = 1.0;
  /** What arrives now is smoothed over this long before it may raise the planned demand above the forecast. */
  static final long ARRIVALS_WINDOW_MS = 180_000;

  private final String region;
  private final Clock clock;
  private final AutoscalingConfig config;
  private final TrafficForecast forecast;
  private final DemandMix mix;
  private final DemandAttribution attribution;
  private final ModelPlanner planner;
  private final Duration horizon;
  private final int regionFloor;

  private final Map<String, Integer> targets = new LinkedHashMap<>();
  private final Map<String, TriggerWindows> windows = new HashMap<>();
  private final Map<String, Instant> lastUp = new HashMap<>();
  private final Map<String, Instant> lastChange = new HashMap<>();
  /** Per pool, (time, desired size) of the evaluations within the down cooldown: a scale-down stops at their maximum. */
  private final Map<String, ArrayDeque<long[]>> recentDesired = new HashMap<>();
  private boolean initialised;
  private final ArrivalsNow arrivals = new ArrivalsNow(ARRIVALS_WINDOW_MS);

  public SustainedTriggerPolicy(GenmeshConfig genmesh, String region, Clock clock, TrafficForecast forecast) {
    this.region = region;
    this.clock = clock;
    this.config = genmesh.autoscaling();
    this.forecast = forecast;
    this.mix = new DemandMix(config);
    this.attribution = new DemandAttribution(genmesh);
    this.planner = new ModelPlanner(config);
    this.horizon = Duration.ofMillis(config.forecast().horizonMs());
    long tierMinimums = config.tierMinimums().values().stream().mapToLong(Long::longValue).sum();
    this.regionFloor = (int) Math.min(config.maxWorkers(), Math.max(config.minWorkers(), tierMinimums));
    config.pools().keySet().forEach(pool -> windows.put(pool, new TriggerWindows()));
  }

  @Override
  public Map<String, Integer> targets() {
    return Collections.unmodifiableMap(targets);
  }

  /** What one pool's triggers say in this evaluation. */
  private record Fired(Trigger trigger, double value, long heldMs) {}

  /** Everything one evaluation knows, shared by its steps. */
  private final class Round {
    final Instant now;
    final ScalingObservation observation;
    final Prediction prediction;
    /** The arrivals now as the policy planned with them ({@link ArrivalsNow}). */
    double arriving;
    final Map<String, PoolView> views;
    final List<ScalingDecision> decisions = new ArrayList<>();

    Round(Instant now, ScalingObservation observation, Prediction prediction, Map<String, PoolView> views) {
      this.now = now;
      this.observation = observation;
      this.prediction = prediction;
      this.views = views;
    }

    int floor(String pool) {
      PoolBounds bounds = config.pools().get(pool);
      return Math.min(bounds.max(), Math.max(bounds.min(), (int) Math.ceil(views.get(pool).reserved() - 1e-9)));
    }

    int desired(String pool) {
      PoolBounds bounds = config.pools().get(pool);
      int need = (int) Math.ceil(views.get(pool).need(attribution.targetUtilisation()) - 1e-9);
      return Math.min(bounds.max(), Math.max(floor(pool), need));
    }

    void decide(String pool, int from, int to, String reason, String driver, Fired fired) {
      PoolView view = views.get(pool);
      ScalePlan plan = from == to ? ScalePlan.NONE : planner.plan(from, to, view.loadedModels, view.classes);
      ScalingDecision decision = new ScalingDecision(now, region, pool, from, to, reason, driver,
          fired == null ? null : fired.trigger.signal(), fired == null ? Double.NaN : fired.value,
          fired == null ? Double.NaN : fired.trigger.threshold(), fired == null ? 0 : fired.heldMs,
          view.signals(targets.get(pool), desired(pool)),
          new ScalingDecision.Forecast(prediction.source(), prediction.qps(), observation.arrivalsPerSecond(),
              prediction.level(), horizon.toMillis(), view.demandWorkers(), view.capacity),
          plan.warmModels(), plan.drainModels());
      targets.put(pool, to);
      if (to != from) {
        lastChange.put(pool, now);
      }
      decisions.add(decision);
      LOG.debug("{} {}: {} -> {} ({}, {})", region, pool, from, to, reason, driver);
    }

    int total() {
      return targets.values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  @Override
  public List<ScalingDecision> evaluate(ScalingObservation observation) {
    Instant now = clock.instant();
    forecast.observe(now, observation.arrivalsPerSecond());
    mix.update(observation, now);
    Prediction prediction = forecast.predict(now, horizon);
    double arriving = arrivals.update(observation.arrivalsPerSecond(), now);
    Round round = new Round(now, observation, prediction,
        attribution.attribute(observation, Math.max(prediction.qps(), arriving), mix.shares()));
    round.arriving = arriving;
    if (!initialised) {
      round.views.forEach((pool, view) -> targets.put(pool, view.live()));
      initialised = true;
    }
    round.views.forEach((pool, view) -> view.capacity = Math.max(view.live(), targets.get(pool)));
    rememberDesired(round);
    Map<String, List<Fired>> ups = new LinkedHashMap<>();
    Map<String, List<Fired>> downs = new LinkedHashMap<>();
    Map<String, Boolean> upArmed = new HashMap<>();
    for (PoolView view : round.views.values()) {
      TriggerWindows poolWindows = windows.get(view.pool);
      List<Fired> up = new ArrayList<>();
      boolean armed = false;
      for (Trigger trigger : config.scaleUp()) {
        double value = view.signal(trigger.signal());
        long held = poolWindows.update(trigger, value, now);
        armed |= held >= 0;
        if (held >= trigger.forMs()) {
          up.add(new Fired(trigger, value, held));
        }
      }
      List<Fired> down = new ArrayList<>();
      for (Trigger trigger : config.scaleDown()) {
        double value = view.signal(trigger.signal());
        long held = poolWindows.update(trigger, value, now);
        if (held >= trigger.forMs()) {
          down.add(new Fired(trigger, value, held));
        }
      }
      ups.put(view.pool, up);
      downs.put(view.pool, down);
      upArmed.put(view.pool, armed);
    }

    replacements(round);
    poolConstraints(round);
    scaleUps(round, ups);
    scaleDowns(round, downs, upArmed);
    regionConstraints(round);
    return round.decisions;
  }

  /**
   * The stabilisation window of a scale-down (as Kubernetes' HPA does it): the pool shrinks no
   * further than the largest size any evaluation of the last down cooldown wanted, so a demand
   * estimate that swings does not take workers away only to add them back a minute later.
   */
  private void rememberDesired(Round round) {
    long now = round.now.toEpochMilli();
    for (String pool : config.pools().keySet()) {
      ArrayDeque<long[]> history = recentDesired.computeIfAbsent(pool, k -> new ArrayDeque<>());
      history.addLast(new long[] {now, round.desired(pool)});
      while (history.peekFirst()[0] < now - config.cooldownDownMs()) {
        history.removeFirst();
      }
    }
  }

  /**
   * The smallest size at which no {@code predicted_load} scale-up trigger would hold (times
   * {@link #SCALE_DOWN_MARGIN}): a scale-down must not set up the next scale-up.
   */
  private int sizeThatArmsNoPrediction(PoolView view) {
    int size = 0;
    for (Trigger trigger : config.scaleUp()) {
      if (trigger.signal().equals("predicted_load") && trigger.above() && trigger.threshold() > 0) {
        size = Math.max(size, (int) Math.ceil(view.demandWorkers() / (trigger.threshold() * SCALE_DOWN_MARGIN) - 1e-9));
      }
    }
    return size;
  }

  private int stabilisedDesired(String pool) {
    return (int) recentDesired.get(pool).stream().mapToLong(entry -> entry[1]).max().orElse(0);
  }

  /** A lost worker: the pool's target is asserted again at once, so the actuator starts another. */
  private void replacements(Round round) {
    for (Replacement replacement : round.observation.replacements()) {
      String pool = replacement.gpuClass();
      if (!targets.containsKey(pool)) {
        LOG.info("{}: replacement for worker {} ignored: GPU class '{}' is not an autoscaled pool", region,
            replacement.workerId(), pool);
        continue;
      }
      int target = targets.get(pool);
      int max = config.pools().get(pool).max();
      if (max == 0) {
        continue;
      }
      int to = Math.min(max, Math.max(target, 1));
      if (to > target && round.total() >= config.maxWorkers()) {
        LOG.info("{}: replacement for worker {} in {} not possible: region at max_workers", region, replacement.workerId(), pool);
        continue;
      }
      round.decide(pool, Math.max(0, Math.min(target, to) - 1), to, "replacement", ScalingDecision.DRIVER_REPLACEMENT,
          null);
    }
  }

  /** Pool bounds and tier reservations hold at once: no window, no cooldown, no step limit. */
  private void poolConstraints(Round round) {
    for (String pool : config.pools().keySet()) {
      int target = targets.get(pool);
      int floor = round.floor(pool);
      int max = config.pools().get(pool).max();
      if (target > max) {
        round.decide(pool, target, max, "pool_bounds", ScalingDecision.DRIVER_CONSTRAINT, null);
      } else if (target < floor) {
        String reason = floor > config.pools().get(pool).min() ? "tier_minimums" : "pool_bounds";
        round.decide(pool, target, floor, reason, ScalingDecision.DRIVER_CONSTRAINT, null);
      }
    }
  }

  private void scaleUps(Round round, Map<String, List<Fired>> ups) {
    List<String> order = new ArrayList<>();
    ups.forEach((pool, fired) -> {
      if (!fired.isEmpty()) {
        order.add(pool);
      }
    });
    order.sort(Comparator.comparingInt((String pool) -> urgency(mostUrgent(ups.get(pool)).trigger)).thenComparing(p -> p));
    for (String pool : order) {
      Instant last = lastUp.get(pool);
      if (last != null && Duration.between(last, round.now).toMillis() < config.cooldownUpMs()) {
        continue;
      }
      List<Fired> fired = ups.get(pool);
      Fired driving = mostUrgent(fired);
      int target = targets.get(pool);
      boolean onlyPrediction = fired.stream().allMatch(f -> f.trigger.signal().equals("predicted_load"));
      int step = onlyPrediction
          ? Math.min(config.stepUp(), Math.max(1, round.desired(pool) - target))
          : config.stepUp();
      int headroom = config.maxWorkers() - round.total();
      int to = Math.min(config.pools().get(pool).max(), target + Math.min(step, headroom));
      if (to > target) {
        round.decide(pool, target, to, driving.trigger.name(), driver(round, driving.trigger), driving);
        lastUp.put(pool, round.now);
      }
    }
  }

  private void scaleDowns(Round round, Map<String, List<Fired>> downs, Map<String, Boolean> upArmed) {
    for (Map.Entry<String, List<Fired>> entry : downs.entrySet()) {
      String pool = entry.getKey();
      if (entry.getValue().isEmpty() || upArmed.get(pool)) {
        continue;
      }
      Instant last = lastChange.get(pool);
      if (last != null && Duration.between(last, round.now).toMillis() < config.cooldownDownMs()) {
        continue;
      }
      int target = targets.get(pool);
      int to = Math.max(target - config.stepDown(), Math.max(round.desired(pool), stabilisedDesired(pool)));
      to = Math.max(to, sizeThatArmsNoPrediction(round.views.get(pool)));
      to = Math.max(to, target - Math.max(0, round.total() - regionFloor));
      if (to < target) {
        Fired driving = entry.getValue().get(0);
        round.decide(pool, target, to, driving.trigger.name(), driver(round, driving.trigger), driving);
      }
    }
  }

  /** The region's min and max: the pools most below (or above) their desired size move first. */
  private void regionConstraints(Round round) {
    while (round.total() < regionFloor) {
      String pool = config.pools().keySet().stream()
          .filter(p -> targets.get(p) < config.pools().get(p).max())
          .max(Comparator.comparingInt((String p) -> round.desired(p) - targets.get(p))
              .thenComparing(Comparator.comparing((String p) -> p).reversed()))
          .orElse(null);
      if (pool == null) {
        break;
      }
      int target = targets.get(pool);
      int to = Math.min(config.pools().get(pool).max(),
          target + Math.max(1, Math.min(regionFloor - round.total(), round.desired(pool) - target)));
      round.decide(pool, target, to, "min_workers", ScalingDecision.DRIVER_CONSTRAINT, null);
    }
    while (round.total() > config.maxWorkers()) {
      String pool = config.pools().keySet().stream()
          .filter(p -> targets.get(p) > round.floor(p))
          .max(Comparator.comparingInt((String p) -> targets.get(p) - round.desired(p)))
          .orElse(null);
      if (pool == null) {
        break;
      }
      int target = targets.get(pool);
      int to = Math.max(round.floor(pool), target - (round.total() - config.maxWorkers()));
      round.decide(pool, target, to, "max_workers", ScalingDecision.DRIVER_CONSTRAINT, null);
    }
  }

  /** Turbo before fast before relax before predictions; then the order of the config. */
  private int urgency(Trigger trigger) {
    String signal = trigger.signal();
    int tier = signal.endsWith(".turbo") ? 0 : signal.endsWith(".fast") ? 1 : signal.endsWith(".relax") ? 2 : 3;
    return tier * 100 + config.scaleUp().indexOf(trigger);
  }

  private Fired mostUrgent(List<Fired> fired) {
    return fired.stream().min(Comparator.comparingInt(f -> urgency(f.trigger))).orElseThrow();
  }

  /**
   * A prediction counts as the forecast's (or the schedule's) when it, not what arrives now (as
   * planned with: smoothed), set the planned demand.
   */
  private String driver(Round round, Trigger trigger) {
    if (!trigger.signal().equals("predicted_load") || round.prediction.qps() <= round.arriving) {
      return ScalingDecision.DRIVER_TRIGGER;
    }
    return TrafficForecast.SOURCE_LEARNED.equals(round.prediction.source())
        ? ScalingDecision.DRIVER_FORECAST : ScalingDecision.DRIVER_SCHEDULE;
  }
}
