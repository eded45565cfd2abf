package dev.genmesh.autoscaler;

import dev.genmesh.config.AutoscalingConfig;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Moves each pool's model distribution towards {@code model_mix}: among the families whose
 * request classes the pool serves now, the target share is their mix share renormalised; a new
 * worker loads the family furthest below its target, a shrinking pool drains the family furthest
 * above it first.
 */
public final class ModelPlanner {
  private final Map<String, Double> mix;
  private final Map<String, List<String>> familyClasses;

  public ModelPlanner(AutoscalingConfig config) {
    this.mix = config.modelMix();
    this.familyClasses = config.modelClasses();
  }

  /** Family → target share within a pool serving {@code classes} (empty: the pool serves none of the families). */
  Map<String, Double> targetShares(Set<String> classes) {
    Map<String, Double> weights = new LinkedHashMap<>();
    mix.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
      List<String> served = familyClasses.getOrDefault(e.getKey(), List.of());
      if (served.stream().anyMatch(classes::contains)) {
        weights.put(e.getKey(), e.getValue());
      }
    });
    double total = weights.values().stream().mapToDouble(Double::doubleValue).sum();
    if (total > 0) {
      weights.replaceAll((family, weight) -> weight / total);
    }
    return weights;
  }

  public ScalePlan plan(int from, int to, Map<String, Integer> loaded, Set<String> classes) {
    Map<String, Double> shares = targetShares(classes);
    if (shares.isEmpty()) {
      return ScalePlan.NONE;
    }
    Map<String, Integer> counts = new HashMap<>();
    shares.keySet().forEach(family -> counts.put(family, loaded.getOrDefault(family, 0)));
    if (to > from) {
      Map<String, Integer> warm = new LinkedHashMap<>();
      int total = Math.max(from, counts.values().stream().mapToInt(Integer::intValue).sum());
      for (int k = 1; k <= to - from; k++) {
        int size = total + k;
        String family = shares.keySet().stream()
            .max(Comparator.comparingDouble((String f) -> shares.get(f) * size - counts.get(f))
                .thenComparing(Comparator.comparing((String f) -> f).reversed()))
            .orElseThrow();
        counts.merge(family, 1, Integer::sum);
        warm.merge(family, 1, Integer::sum);
      }
      return new ScalePlan(warm, List.of());
    }
    // Proportions of what is loaded, not counts: the report may lag the pool's size.
    double loadedTotal = loaded.values().stream().mapToInt(Integer::intValue).sum();
    List<String> drain = new ArrayList<>(loaded.keySet());
    drain.removeIf(family -> loaded.get(family) <= 0);
    drain.sort(Comparator.comparingDouble((String f) -> -(loaded.get(f) / loadedTotal - shares.getOrDefault(f, 0.0)))
        .thenComparing(f -> f));
    return new ScalePlan(Map.of(), drain);
  }
}
