package dev.genmesh.autoscaler;

import dev.genmesh.config.GenmeshConfig;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The autoscaled pools a request class may run on, cheapest per request (cost per hour over speed) first. */
public final class PoolCosts {
  private PoolCosts() {}

  public static List<String> cheapestFirst(GenmeshConfig config, String requestClass) {
    List<String> allowed = config.routing().get(requestClass);
    List<String> pools = new ArrayList<>();
    for (String pool : config.autoscaling().pools().keySet()) {
      // A pool bounded to no workers serves nothing (e.g. the GPU pools of a CPU-only `genmesh up`).
      if ((allowed == null || allowed.contains(pool)) && config.autoscaling().pools().get(pool).max() > 0) {
        pools.add(pool);
      }
    }
    if (pools.isEmpty()) { // the matrix names no pool we run (e.g. sdxl on a CPU-only `genmesh up`): any we run
      config.autoscaling().pools().forEach((pool, bounds) -> {
        if (bounds.max() > 0) {
          pools.add(pool);
        }
      });
    }
    if (pools.isEmpty()) { // no pool may grow at all: any pool rather than none
      pools.addAll(config.autoscaling().pools().keySet());
    }
    pools.sort(Comparator.comparingDouble((String p) -> config.gpus().get(p).costPerUnitOfWork()).thenComparing(p -> p));
    return pools;
  }
}
