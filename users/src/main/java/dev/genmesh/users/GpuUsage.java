package dev.genmesh.users;

import java.util.List;

/**
 * A user's metered GPU time (fast and turbo) in a period, as the generation index holds it.
 *
 * @param usedMs the GPU time of the period's completed fast/turbo generations
 * @param pending the period's fast/turbo generations whose outcome the index does not know yet
 *     (still running, or nobody looked since they ended): the edge asks their regions
 * @param quotaSeconds the user's own quota (null: the configured default)
 */
public record GpuUsage(long usedMs, List<Generation> pending, Long quotaSeconds) {
  public GpuUsage {
    pending = List.copyOf(pending);
  }
}
