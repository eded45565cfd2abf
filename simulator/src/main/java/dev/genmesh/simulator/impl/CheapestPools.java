package dev.genmesh.simulator.impl;

import dev.genmesh.autoscaler.PoolCosts;
import dev.genmesh.config.GenmeshConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** For the baseline fleets: each request class belongs to its cheapest pool (no spill-over). */
public final class CheapestPools {
  private final Map<String, String> poolOfClass = new HashMap<>();
  private final Map<String, Set<String>> classesOfPool = new HashMap<>();

  public CheapestPools(GenmeshConfig config) {
    for (String requestClass : config.routing().keySet()) {
      List<String> pools = PoolCosts.cheapestFirst(config, requestClass);
      poolOfClass.put(requestClass, pools.get(0));
      classesOfPool.computeIfAbsent(pools.get(0), k -> new TreeSet<>()).add(requestClass);
    }
    for (String pool : config.autoscaling().pools().keySet()) {
      if (!classesOfPool.containsKey(pool)) { // cheapest for nothing: it serves what routing allows
        Set<String> allowed = new TreeSet<>();
        config.routing().forEach((requestClass, gpus) -> {
          if (gpus.contains(pool)) {
            allowed.add(requestClass);
          }
        });
        classesOfPool.put(pool, allowed);
      }
    }
  }

  public String poolOf(String requestClass) {
    return poolOfClass.get(requestClass);
  }

  public Set<String> classesOf(String pool) {
    return classesOfPool.getOrDefault(pool, Set.of());
  }
}
