package dev.genmesh.autoscaler.impl;

import dev.genmesh.config.AutoscalingConfig.Trigger;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * "For N seconds" for every trigger of one pool: a condition counts once it has held at every
 * evaluation for the trigger's window. One evaluation where it does not hold (a flapping signal)
 * starts the window over.
 */
final class TriggerWindows {
  private final Map<String, Instant> holdingSince = new HashMap<>();

  /** Records whether {@code trigger} holds at {@code now}; answers for how long it has held (-1: not). */
  long update(Trigger trigger, double value, Instant now) {
    if (!trigger.holds(value)) { // NaN never holds
      holdingSince.remove(trigger.name());
      return -1;
    }
    Instant since = holdingSince.computeIfAbsent(trigger.name(), k -> now);
    return Duration.between(since, now).toMillis();
  }
}
