package dev.genmesh.autoscaler;

import dev.genmesh.autoscaler.impl.SustainedTriggerPolicy;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.scaling.ScalingDecision;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * Decides the size of each GPU pool. Called every {@code autoscaling.evaluation_interval_ms} with
 * a fresh observation; answers one decision per pool whose target changes (none when nothing
 * should change). Time comes from the clock the policy was made with, so "for 30 s" windows and
 * cooldowns are testable without waiting. Not thread-safe: one caller (a verticle's event loop,
 * the simulator).
 */
public interface ScalingPolicy {

  List<ScalingDecision> evaluate(ScalingObservation observation);

  /** The current target per pool (after the last evaluation). */
  Map<String, Integer> targets();

  /** The design's policy (docs/architecture.md, "Design numbers and where they live"): triggers with windows, cooldowns, steps, bounds, forecast. */
  static ScalingPolicy design(GenmeshConfig config, String region, Clock clock) {
    return new SustainedTriggerPolicy(config, region, clock, TrafficForecast.hourOfWeek(config.autoscaling()));
  }

  /** The same with a forecast of the caller's (e.g. one trained on history). */
  static ScalingPolicy design(GenmeshConfig config, String region, Clock clock, TrafficForecast forecast) {
    return new SustainedTriggerPolicy(config, region, clock, forecast);
  }
}
