package dev.genmesh.autoscaler;


import dev.genmesh.autoscaler.ScalingObservation.PoolState;
import dev.genmesh.autoscaler.ScalingObservation.QueueStat;
import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.scaling.ScalingDecision;
import dev.genmesh.testkit.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The real design policy against a fleet that follows every decision at once, observed every
 * 10 s (the default evaluation interval) on a test clock. Queues, utilisation and the forecast are
 * what the test sets.
 */
final class PolicyHarness {
  static final Duration TICK = Duration.ofSeconds(10);
  /** A Wednesday, 12:00 UTC. */
  static final Instant START = Instant.parse("2026-11-25T12:00:00Z");

  final GenmeshConfig config;
  final ManualClock clock = new ManualClock(START);
  final FixedForecast forecast = new FixedForecast();
  final ScalingPolicy policy;
  final Map<String, Integer> fleet = new LinkedHashMap<>();
  final Map<String, Double> utilisation = new HashMap<>();
  final Map<String, Map<String, Integer>> loaded = new HashMap<>();
  final Map<String, Map<Tier, QueueStat>> queues = new HashMap<>();
  final List<Replacement> replacements = new ArrayList<>();
  final List<ScalingDecision> decisions = new ArrayList<>();

  PolicyHarness() {
    this(ConfigLoader.defaults());
  }

  PolicyHarness(GenmeshConfig config) {
    this.config = config;
    this.policy = ScalingPolicy.design(config, "us-west", clock, forecast);
    config.autoscaling().pools().keySet().forEach(pool -> fleet.put(pool, 0));
  }

  /** The pools at their floors: one evaluation applies the constraints, then the record is cleared. */
  PolicyHarness settled() {
    tick();
    decisions.clear();
    return this;
  }

  PolicyHarness queue(String requestClass, Tier tier, int depth, long averageWaitMs, double arrivalsPerSecond) {
    queues.computeIfAbsent(requestClass, k -> new EnumMap<>(Tier.class))
        .put(tier, new QueueStat(depth, averageWaitMs, arrivalsPerSecond));
    return this;
  }

  PolicyHarness clearQueues() {
    queues.clear();
    return this;
  }

  PolicyHarness utilisation(String pool, double value) {
    utilisation.put(pool, value);
    return this;
  }

  ScalingObservation observation() {
    Map<String, PoolState> pools = new LinkedHashMap<>();
    fleet.forEach((pool, count) -> pools.put(pool, new PoolState(count, 0, 0,
        count == 0 ? Double.NaN : utilisation.getOrDefault(pool, 0.5), 0, loaded.getOrDefault(pool, Map.of()))));
    Map<String, Map<Tier, QueueStat>> copy = new HashMap<>();
    queues.forEach((k, v) -> copy.put(k, new EnumMap<>(v)));
    ScalingObservation observation = new ScalingObservation(clock.instant(), pools, copy, replacements);
    replacements.clear();
    return observation;
  }

  /** One evaluation now; the fleet follows; the clock moves one tick. */
  List<ScalingDecision> tick() {
    List<ScalingDecision> made = policy.evaluate(observation());
    made.forEach(d -> fleet.put(d.pool(), d.to()));
    decisions.addAll(made);
    clock.advance(TICK);
    return made;
  }

  /** Ticks for {@code duration}; answers the decisions made meanwhile. */
  List<ScalingDecision> run(Duration duration) {
    List<ScalingDecision> made = new ArrayList<>();
    for (long t = 0; t < duration.toMillis(); t += TICK.toMillis()) {
      made.addAll(tick());
    }
    return made;
  }

  int total() {
    return fleet.values().stream().mapToInt(Integer::intValue).sum();
  }

  /** A forecast the test sets; it learns nothing. */
  static final class FixedForecast implements TrafficForecast {
    double qps;
    String source = SOURCE_SCHEDULE;

    @Override
    public void observe(Instant time, double arrivalsPerSecond) {}

    @Override
    public Prediction predict(Instant now, Duration horizon) {
      return new Prediction(qps, source, 0, 1.0);
    }
  }
}
