package dev.genmesh.config;

import dev.genmesh.config.impl.Node;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The GPU pool autoscaler's design numbers (docs/architecture.md, "Design numbers and where they live") and what the policy
 * needs besides them (docs/autoscaling.md explains each).
 *
 * @param tierMinimums workers reserved per tier: the policy never sizes a tier's share of a pool
 *     below its minimum, so the region holds at least their sum
 * @param modelMix target share of workers per model family (new workers load the family
 *     furthest below its target first)
 * @param timeOfDay share of the peak ({@link Forecast#peakQps}) expected from each UTC hour on:
 *     the pre-scaling schedule, used where the learned forecast has no data yet
 * @param evaluationIntervalMs how often the policy looks at the region
 * @param targetUtilisation per tier, the busy share of workers the policy sizes for (relax
 *     tolerates queueing, turbo does not)
 * @param waitTargetsMs per tier, the wait a request should not exceed (not among the design numbers; our
 *     choice): the simulator's yardstick, and the time the policy allows to drain a backlog
 * @param baseServiceMs the mean time of one request on a GPU of speed 1.0 (an A10G), used
 *     until the region has measured its own
 * @param coldStartMs from "start a worker" to "ready" (machine, image, model load): the
 *     simulator's figure; the policy sees starting workers in its observations
 * @param modelClasses request classes each model family serves, so a family is only loaded
 *     where the routing matrix allows its classes
 * @param pools the GPU pools the region may run, each with its own bounds
 * @param kubernetes the Kubernetes actuator (one Deployment per pool)
 * @param enabled whether region nodes run the autoscaler (off by default: the policy then only
 *     serves the simulator)
 * @param drainDeadlineMs how long a draining worker may finish what it runs before it hands the
 *     rest back to the queue (at its next step)
 */
public record AutoscalingConfig(
    int minWorkers,
    int maxWorkers,
    long cooldownUpMs,
    long cooldownDownMs,
    int stepUp,
    int stepDown,
    Map<String, Long> tierMinimums,
    Map<String, Double> modelMix,
    Map<String, Double> timeOfDay,
    List<Trigger> scaleUp,
    List<Trigger> scaleDown,
    long evaluationIntervalMs,
    Map<String, Double> targetUtilisation,
    Map<String, Long> waitTargetsMs,
    long baseServiceMs,
    long coldStartMs,
    Map<String, List<String>> modelClasses,
    Map<String, PoolBounds> pools,
    Forecast forecast,
    Kubernetes kubernetes,
    boolean enabled,
    long drainDeadlineMs) {

  static final Set<String> TIERS = Set.of("turbo", "fast", "relax");
  private static final Pattern SIGNAL = Pattern.compile(
      "depth\\.(turbo|fast|relax|all)|wait_ms\\.(turbo|fast|relax)|gpu_utilisation|predicted_load");
  private static final Pattern HOUR = Pattern.compile("([01]\\d|2[0-3]):[0-5]\\d");

  /**
   * A condition that must hold for {@code forMs} before it counts.
   *
   * @param signal {@code depth.<tier>}, {@code depth.all}, {@code wait_ms.<tier>} (average age of
   *     the waiting requests), {@code gpu_utilisation} (0..1) or {@code predicted_load}
   *     (predicted demand / capacity)
   * @param above true for "greater than threshold", false for "less than"
   */
  public record Trigger(String name, String signal, boolean above, double threshold, long forMs) {
    static Trigger read(Node n) {
      String op = n.string("op");
      if (!op.equals(">") && !op.equals("<")) {
        throw new ConfigException(n.keyPath("op"), "must be '>' or '<', got '" + op + "'");
      }
      String signal = n.string("signal");
      if (!SIGNAL.matcher(signal).matches()) {
        throw new ConfigException(n.keyPath("signal"), "must be depth.<tier|all>, wait_ms.<tier>, gpu_utilisation or"
            + " predicted_load, got '" + signal + "'");
      }
      Trigger trigger = new Trigger(
          n.name(), signal, op.equals(">"), n.decimal("threshold", -1e12, 1e12), n.integer("for_ms", 0L, 86_400_000L));
      n.finish();
      return trigger;
    }

    /** True when {@code value} is on the triggering side of the threshold. */
    public boolean holds(double value) {
      return above ? value > threshold : value < threshold;
    }
  }

  /** How many workers one GPU pool may hold. */
  public record PoolBounds(String gpu, int min, int max) {
    static PoolBounds read(Node n) {
      PoolBounds bounds = new PoolBounds(n.name(), n.integer("min", 0, 100_000), n.integer("max", 0, 100_000));
      n.finish();
      if (bounds.min > bounds.max) {
        throw new ConfigException(n.keyPath("min"), "must not exceed max (" + bounds.max + ")");
      }
      return bounds;
    }
  }

  /**
   * The learned forecast: an hour-of-week profile of the region's own arrivals.
   *
   * @param peakQps what 100 % of the time-of-day schedule means, in requests per second
   * @param horizonMs how far ahead the policy looks (must cover a cold start plus the steps a
   *     ramp needs)
   * @param smoothing weight of a new observation of an hour-of-week slot (exponential smoothing)
   * @param levelWindowMs time constant of the recent-traffic level that scales the profile
   *     (today runs 20 % above the usual: so will the next hour)
   * @param levelMin lower bound of that scale
   * @param levelMax upper bound of that scale
   */
  public record Forecast(double peakQps, long horizonMs, double smoothing, long levelWindowMs, double levelMin,
      double levelMax) {
    static Forecast read(Node n) {
      Forecast forecast = new Forecast(
          n.decimal("peak_qps", 0.001, 1e6),
          n.integer("horizon_ms", 0L, 86_400_000L),
          n.decimal("smoothing", 0.01, 1.0),
          n.integer("level_window_ms", 1_000L, 86_400_000L),
          n.decimal("level_min", 0.01, 1.0),
          n.decimal("level_max", 1.0, 100.0));
      n.finish();
      return forecast;
    }
  }

  /**
   * The Kubernetes actuator: scales Deployment {@code <deployment_prefix><gpu lowercased>} in
   * {@code namespace}, one per pool (docs/autoscaling.md, "Kubernetes actuator").
   *
   * @param enabled whether the region node uses it (off by default: there is no cluster here)
   * @param namespace the namespace of the worker Deployments (k8s/ manifests: {@code genmesh})
   * @param deploymentPrefix the Deployment name before the lowercased GPU class; {@code {region}}
   *     stands for the region's name (k8s/ manifests: {@code genmesh-worker-{region}-})
   * @param dryRun log and return what it would do, without calling the Kubernetes API
   */
  public record Kubernetes(boolean enabled, String namespace, String deploymentPrefix, boolean dryRun) {
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern NAME_PREFIX = Pattern.compile("[a-z0-9]([-a-z0-9.]|\\{region})*");

    public static Kubernetes defaults() {
      return new Kubernetes(false, "genmesh", "genmesh-worker-{region}-", false);
    }

    /** The Deployment of one pool of one region, e.g. {@code genmesh-worker-us-west-a100-80}. */
    public String deploymentName(String region, String gpu) {
      return deploymentPrefix.replace("{region}", region.toLowerCase(java.util.Locale.ROOT))
          + gpu.toLowerCase(java.util.Locale.ROOT);
    }

    static Kubernetes read(Node n) {
      Kubernetes kubernetes = new Kubernetes(
          n.bool("enabled", false), n.string("namespace", "genmesh"),
          n.string("deployment_prefix", "genmesh-worker-{region}-"), n.bool("dry_run", false));
      n.finish();
      if (!DNS_LABEL.matcher(kubernetes.namespace).matches()) {
        throw new ConfigException(n.keyPath("namespace"), "must be a Kubernetes namespace name (lowercase letters,"
            + " digits and '-', at most 63), got '" + kubernetes.namespace + "'");
      }
      if (!NAME_PREFIX.matcher(kubernetes.deploymentPrefix).matches()) {
        throw new ConfigException(n.keyPath("deployment_prefix"), "must start a Kubernetes object name (lowercase"
            + " letters, digits, '-', '.', and {region}), got '" + kubernetes.deploymentPrefix + "'");
      }
      return kubernetes;
    }
  }

  /** The wait target of a tier (wire name). */
  public long waitTargetMs(String tier) {
    return waitTargetsMs.get(tier);
  }

  static AutoscalingConfig read(Node n) {
    AutoscalingConfig config = new AutoscalingConfig(
        n.integer("min_workers", 0, 100_000),
        n.integer("max_workers", 0, 100_000),
        n.integer("cooldown_up_ms", 0L, 86_400_000L),
        n.integer("cooldown_down_ms", 0L, 86_400_000L),
        n.integer("step_up", 1, 10_000),
        n.integer("step_down", 1, 10_000),
        ordered(tiers(n, "tier_minimums", n.integers("tier_minimums", 0, 100_000))),
        ordered(n.decimals("model_mix", 0.0, 1.0)),
        ordered(n.decimals("time_of_day", 0.0, 10.0)),
        List.copyOf(n.entries("scale_up", Trigger::read).values()),
        List.copyOf(n.entries("scale_down", Trigger::read).values()),
        n.integer("evaluation_interval_ms", 100L, 3_600_000L),
        ordered(tiers(n, "target_utilisation", n.decimals("target_utilisation", 0.05, 1.0))),
        ordered(tiers(n, "wait_targets_ms", n.integers("wait_targets_ms", 1, 86_400_000L))),
        n.integer("base_service_ms", 1L, 3_600_000L),
        n.integer("cold_start_ms", 0L, 3_600_000L),
        ordered(n.lists("model_classes")),
        ordered(n.entries("pools", PoolBounds::read)),
        Forecast.read(n.child("forecast")),
        n.has("kubernetes") ? Kubernetes.read(n.child("kubernetes")) : Kubernetes.defaults(),
        n.bool("enabled", false),
        n.integer("drain_deadline_ms", 0L, 86_400_000L, 120_000L));
    n.finish();
    if (config.minWorkers > config.maxWorkers) {
      throw new ConfigException(n.keyPath("min_workers"), "must not exceed max_workers");
    }
    double mix = config.modelMix.values().stream().mapToDouble(Double::doubleValue).sum();
    if (Math.abs(mix - 1.0) > 0.01) {
      throw new ConfigException(n.keyPath("model_mix"), "shares must add up to 1.0, got " + mix);
    }
    for (String hour : config.timeOfDay.keySet()) {
      if (!HOUR.matcher(hour).matches()) {
        throw new ConfigException(n.keyPath("time_of_day." + hour), "must be a UTC time HH:MM");
      }
    }
    for (String family : config.modelClasses.keySet()) {
      if (!config.modelMix.containsKey(family)) {
        throw new ConfigException(n.keyPath("model_classes." + family), "is not a family of model_mix " + config.modelMix.keySet());
      }
    }
    int poolMinimums = config.pools.values().stream().mapToInt(PoolBounds::min).sum();
    if (poolMinimums > config.maxWorkers) {
      throw new ConfigException(n.keyPath("pools"), "minimums add up to " + poolMinimums + ", above max_workers " + config.maxWorkers);
    }
    int poolMaximums = config.pools.values().stream().mapToInt(PoolBounds::max).sum();
    if (poolMaximums < config.minWorkers) {
      throw new ConfigException(n.keyPath("pools"), "maximums add up to " + poolMaximums + ", below min_workers " + config.minWorkers);
    }
    if (config.forecast.levelMin > config.forecast.levelMax) {
      throw new ConfigException(n.keyPath("forecast.level_min"), "must not exceed level_max");
    }
    return config;
  }

  /** In file order, unmodifiable: whoever iterates (the simulator, the policy) gets the same order every run. */
  private static <T> Map<String, T> ordered(Map<String, T> values) {
    return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(values));
  }

  /** A per-tier section must name exactly the three tiers. */
  private static <T> Map<String, T> tiers(Node n, String key, Map<String, T> values) {
    if (!values.keySet().equals(TIERS)) {
      throw new ConfigException(n.keyPath(key), "must name exactly the tiers " + TIERS + ", got " + values.keySet());
    }
    return values;
  }
}
