package dev.genmesh.launcher.scaling;

import dev.genmesh.config.AutoscalingConfig.PoolBounds;
import dev.genmesh.config.AutoscalingConfig;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.GpuConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The autoscaling of {@code genmesh up --autoscale}: one pool, the local workers' GPU class
 * ({@code worker.gpu_class}, {@code cpu}), of 1 to {@link #MAX_WORKERS} workers per region; the GPU
 * pools are bounded to none. The triggers keep their thresholds and windows from the config, except
 * the forecast ones and the schedule's peak (60 requests/s mean nothing on one machine: the pool
 * is sized for the arrivals of the last minute and the queues) and the tier
 * minimums (sized for a GPU fleet); the cooldowns are shortened so a burst shows within a minute.
 */
public final class LocalAutoscaling {
  public static final int MAX_WORKERS = 3;
  private static final long COOLDOWN_UP_MS = 10_000;
  private static final long COOLDOWN_DOWN_MS = 30_000;
  private static final double LOCAL_PEAK_QPS = 0.001;

  private LocalAutoscaling() {}

  /** The schedule scaled to next to nothing: one machine plans for what arrives, not for a region's day. */
  private static AutoscalingConfig.Forecast forecast(AutoscalingConfig.Forecast f) {
    return new AutoscalingConfig.Forecast(LOCAL_PEAK_QPS, f.horizonMs(), f.smoothing(), f.levelWindowMs(), f.levelMin(),
        f.levelMax());
  }

  public static GenmeshConfig configure(GenmeshConfig base) {
    return configure(base, 1);
  }

  /** As {@link #configure(GenmeshConfig)}, with a warm pool of at least {@code minWorkers} per region ({@code up --chaos}: 2). */
  public static GenmeshConfig configure(GenmeshConfig base, int minWorkers) {
    AutoscalingConfig a = base.autoscaling();
    String local = base.worker().gpuClass();
    Map<String, PoolBounds> pools = new LinkedHashMap<>();
    a.pools().keySet().forEach(gpu -> pools.put(gpu, new PoolBounds(gpu, 0, 0)));
    pools.put(local, new PoolBounds(local, minWorkers, MAX_WORKERS));
    Map<String, GpuConfig> gpus = new LinkedHashMap<>(base.gpus());
    GenmeshConfig routed = base;
    if (!gpus.containsKey(local)) {
      gpus.put(local, new GpuConfig(local, (int) Math.max(1, base.worker().vramMb() / 1024), 0.0, 0.25));
      routed = base.withRouting(servedByAll(base.routing(), local));
    }
    List<AutoscalingConfig.Trigger> up = a.scaleUp().stream().filter(t -> !t.signal().equals("predicted_load")).toList();
    List<AutoscalingConfig.Trigger> down = a.scaleDown().stream().filter(t -> !t.signal().equals("predicted_load")).toList();
    AutoscalingConfig localScaling = new AutoscalingConfig(minWorkers, MAX_WORKERS, Math.min(a.cooldownUpMs(), COOLDOWN_UP_MS),
        Math.min(a.cooldownDownMs(), COOLDOWN_DOWN_MS), 1, 1, Map.of("turbo", 0L, "fast", 0L, "relax", 0L), a.modelMix(),
        a.timeOfDay(), up, down, a.evaluationIntervalMs(), a.targetUtilisation(), a.waitTargetsMs(), a.baseServiceMs(),
        a.coldStartMs(), a.modelClasses(), pools, forecast(a.forecast()), a.kubernetes(), true, a.drainDeadlineMs());
    return routed.withGpus(gpus).withAutoscaling(localScaling);
  }

  /**
   * The routing matrix with the local class allowed for every request class: in the catalog (the autoscaler needs its
   * pool), it would otherwise serve none, and every request would wait out {@code queue.routing_hold_ms} first.
   */
  private static Map<String, List<String>> servedByAll(Map<String, List<String>> routing, String local) {
    Map<String, List<String>> matrix = new LinkedHashMap<>();
    routing.forEach((requestClass, allowed) -> {
      List<String> withLocal = new ArrayList<>(allowed);
      withLocal.add(local);
      matrix.put(requestClass, List.copyOf(withLocal));
    });
    return matrix;
  }
}
