package dev.genmesh.config;

import dev.genmesh.config.impl.Node;
import java.util.List;
import java.util.Map;

/** The GPU pool autoscaler's design numbers (DESIGN.md, "Design numbers"). */
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
    List<Trigger> scaleDown) {

  /**
   * A condition that must hold for {@code forMs} before it counts.
   *
   * @param signal e.g. {@code depth.turbo}, {@code wait_ms.fast}, {@code predicted_load},
   *     {@code depth.all}, {@code gpu_utilisation}
   * @param above true for "greater than threshold", false for "less than"
   */
  public record Trigger(String name, String signal, boolean above, double threshold, long forMs) {
    static Trigger read(Node n) {
      String op = n.string("op");
      if (!op.equals(">") && !op.equals("<")) {
        throw new ConfigException(n.keyPath("op"), "must be '>' or '<', got '" + op + "'");
      }
      Trigger trigger = new Trigger(
          n.name(), n.string("signal"), op.equals(">"), n.decimal("threshold", -1e12, 1e12), n.integer("for_ms", 0L, 86_400_000L));
      n.finish();
      return trigger;
    }
  }

  static AutoscalingConfig read(Node n) {
    AutoscalingConfig config = new AutoscalingConfig(
        n.integer("min_workers", 0, 100_000),
        n.integer("max_workers", 0, 100_000),
        n.integer("cooldown_up_ms", 0L, 86_400_000L),
        n.integer("cooldown_down_ms", 0L, 86_400_000L),
        n.integer("step_up", 1, 10_000),
        n.integer("step_down", 1, 10_000),
        Map.copyOf(n.integers("tier_minimums", 0, 100_000)),
        Map.copyOf(n.decimals("model_mix", 0.0, 1.0)),
        Map.copyOf(n.decimals("time_of_day", 0.0, 10.0)),
        List.copyOf(n.entries("scale_up", Trigger::read).values()),
        List.copyOf(n.entries("scale_down", Trigger::read).values()));
    n.finish();
    if (config.minWorkers > config.maxWorkers) {
      throw new ConfigException(n.keyPath("min_workers"), "must not exceed max_workers");
    }
    return config;
  }
}
