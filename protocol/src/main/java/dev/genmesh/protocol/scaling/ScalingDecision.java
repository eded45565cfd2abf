package dev.genmesh.protocol.scaling;

import dev.genmesh.protocol.Addresses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One change of a GPU pool's target size and why: published on
 * {@link Addresses#scalingDecisions} and kept in the region's {@code scaling_decisions} table, so
 * "why did it scale at 10:02?" is one query.
 *
 * @param from the pool's target before (for a replacement: the workers left after the loss)
 * @param to the new target (workers starting or ready; draining ones do not count)
 * @param reason the trigger's name from {@code autoscaling.scale_up/scale_down} (e.g.
 *     {@code turbo_depth}, {@code predicted_high}), or {@code replacement}, {@code tier_minimums},
 *     {@code min_workers}, {@code max_workers}, {@code pool_bounds}
 * @param driver what drove it: {@code trigger} (a queue, wait or utilisation signal), {@code
 *     forecast} (the learned hour-of-week profile), {@code schedule} (the time-of-day schedule,
 *     where the profile has no data), {@code replacement} or {@code constraint}
 * @param signal the signal the trigger watches ({@code depth.turbo}, ...); null for constraints
 * @param value the signal's value when the trigger fired
 * @param threshold the trigger's threshold
 * @param heldMs how long the condition had held without a break
 * @param signals every signal of the pool at that moment, and the pool's counts
 * @param forecast the prediction behind {@code predicted_load}; null when the policy has none
 * @param warmModels for a scale-up: model family → how many of the new workers load it first
 * @param drainModels for a scale-down: families to drain first (most above their target first)
 */
public record ScalingDecision(
    Instant time,
    String region,
    String pool,
    int from,
    int to,
    String reason,
    String driver,
    String signal,
    double value,
    double threshold,
    long heldMs,
    Map<String, Double> signals,
    Forecast forecast,
    Map<String, Integer> warmModels,
    List<String> drainModels) {

  public static final String DRIVER_TRIGGER = "trigger";
  public static final String DRIVER_FORECAST = "forecast";
  public static final String DRIVER_SCHEDULE = "schedule";
  public static final String DRIVER_REPLACEMENT = "replacement";
  public static final String DRIVER_CONSTRAINT = "constraint";

  public ScalingDecision {
    signals = Map.copyOf(signals);
    warmModels = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(warmModels));
    drainModels = List.copyOf(drainModels);
  }

  /**
   * What the policy predicted for the pool.
   *
   * @param source {@code learned} (hour-of-week profile) or {@code schedule} (time of day)
   * @param regionQps the region's predicted arrivals over the horizon (the highest hour)
   * @param observedQps the region's arrivals now
   * @param level today's traffic relative to the profile (scales the prediction)
   * @param horizonMs how far ahead the prediction looked
   * @param demandWorkers workers the pool's share of that demand needs at full utilisation
   * @param capacityWorkers workers the pool has (starting or ready)
   */
  public record Forecast(String source, double regionQps, double observedQps, double level, long horizonMs,
      double demandWorkers, double capacityWorkers) {

    /** The {@code predicted_load} signal: demand over capacity. */
    public double predictedLoad() {
      return capacityWorkers <= 0 ? (demandWorkers > 0 ? Double.POSITIVE_INFINITY : 0) : demandWorkers / capacityWorkers;
    }

    public JsonObject toJson() {
      return new JsonObject()
          .put("source", source)
          .put("region_qps", regionQps)
          .put("observed_qps", observedQps)
          .put("level", level)
          .put("horizon_ms", horizonMs)
          .put("demand_workers", demandWorkers)
          .put("capacity_workers", capacityWorkers);
    }

    public static Forecast fromJson(JsonObject json) {
      return new Forecast(json.getString("source"), json.getDouble("region_qps"), json.getDouble("observed_qps"),
          json.getDouble("level"), json.getLong("horizon_ms"), json.getDouble("demand_workers"),
          json.getDouble("capacity_workers"));
    }
  }

  public boolean isUp() {
    return to > from;
  }

  public JsonObject toJson() {
    JsonObject signalJson = new JsonObject();
    signals.entrySet().stream().sorted(Map.Entry.comparingByKey())
        .forEach(e -> signalJson.put(e.getKey(), finite(e.getValue())));
    JsonObject warm = new JsonObject();
    warmModels.forEach(warm::put);
    return new JsonObject()
        .put("time", time.toString())
        .put("region", region)
        .put("pool", pool)
        .put("from", from)
        .put("to", to)
        .put("reason", reason)
        .put("driver", driver)
        .put("signal", signal)
        .put("value", finite(value))
        .put("threshold", finite(threshold))
        .put("held_ms", heldMs)
        .put("signals", signalJson)
        .put("forecast", forecast == null ? null : forecast.toJson())
        .put("warm_models", warm)
        .put("drain_models", new JsonArray(new ArrayList<>(drainModels)));
  }

  public static ScalingDecision fromJson(JsonObject json) {
    Map<String, Double> signals = new LinkedHashMap<>();
    JsonObject signalJson = json.getJsonObject("signals", new JsonObject());
    for (String key : signalJson.fieldNames()) {
      signals.put(key, number(signalJson.getValue(key)));
    }
    Map<String, Integer> warm = new LinkedHashMap<>();
    JsonObject warmJson = json.getJsonObject("warm_models", new JsonObject());
    for (String key : warmJson.fieldNames()) {
      warm.put(key, warmJson.getInteger(key));
    }
    List<String> drain = new ArrayList<>();
    for (Object family : json.getJsonArray("drain_models", new JsonArray())) {
      drain.add(family.toString());
    }
    JsonObject forecast = json.getJsonObject("forecast");
    return new ScalingDecision(
        Instant.parse(json.getString("time")),
        json.getString("region"),
        json.getString("pool"),
        json.getInteger("from"),
        json.getInteger("to"),
        json.getString("reason"),
        json.getString("driver"),
        json.getString("signal"),
        number(json.getValue("value")),
        number(json.getValue("threshold")),
        json.getLong("held_ms", 0L),
        signals,
        forecast == null ? null : Forecast.fromJson(forecast),
        warm,
        drain);
  }

  /** JSON has no infinity or NaN: they travel as null and come back as NaN. */
  private static Double finite(double value) {
    return Double.isFinite(value) ? value : null;
  }

  private static double number(Object value) {
    return value instanceof Number n ? n.doubleValue() : Double.NaN;
  }
}
