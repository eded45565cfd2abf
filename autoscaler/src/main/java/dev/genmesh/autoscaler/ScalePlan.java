package dev.genmesh.autoscaler;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How to carry out a new pool size: the models new workers load first, and which workers to
 * drain first when the pool shrinks (by the family they hold).
 *
 * @param warmModels model family → how many of the new workers load it first
 * @param drainModels families to drain first, most over their target share first
 */
public record ScalePlan(Map<String, Integer> warmModels, List<String> drainModels) {
  public static final ScalePlan NONE = new ScalePlan(Map.of(), List.of());

  public ScalePlan {
    warmModels = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(warmModels));
    drainModels = List.copyOf(drainModels);
  }
}
