package dev.genmesh.autoscaler;

import dev.genmesh.protocol.Tier;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What the policy sees of its region at one moment: the GPU pools, and the queues by request
 * class and tier. Whoever builds it (the region node, the simulator) reads the facts; which pool
 * should grow is the policy's business.
 *
 * @param pools by GPU class (pool name); a pool the config names but the map lacks has no workers
 * @param queues by request class ({@code ""}: requests any GPU may serve), then by tier
 * @param replacements workers lost since the last observation, each asking for a replacement
 */
public record ScalingObservation(
    Instant time,
    Map<String, PoolState> pools,
    Map<String, Map<Tier, QueueStat>> queues,
    List<Replacement> replacements) {

  public ScalingObservation {
    // The caller's order, kept: sums over queues come out the same every run.
    pools = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(pools));
    queues = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(queues));
    replacements = List.copyOf(replacements);
  }

  /**
   * One pool's workers.
   *
   * @param ready workers taking work
   * @param starting workers warming up (they count towards capacity: they will be ready soon)
   * @param draining workers finishing their last requests (they do not count)
   * @param utilisation busy share of the ready workers over the last interval (0..1; NaN: none ready)
   * @param meanServiceMs the pool's measured mean time per request; 0 = not measured yet
   * @param loadedModels model family → workers (ready or starting) that hold it
   */
  public record PoolState(int ready, int starting, int draining, double utilisation, long meanServiceMs,
      Map<String, Integer> loadedModels) {
    public PoolState {
      loadedModels = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(loadedModels));
    }

    public int live() {
      return ready + starting;
    }
  }

  /**
   * One queue (request class and tier).
   *
   * @param depth requests waiting
   * @param averageWaitMs average age of the waiting requests (0 when none wait)
   * @param arrivalsPerSecond arrivals over the last minute or so
   */
  public record QueueStat(int depth, long averageWaitMs, double arrivalsPerSecond) {
    public static final QueueStat EMPTY = new QueueStat(0, 0, 0);
  }

  /** The region's arrivals per second, all queues. */
  public double arrivalsPerSecond() {
    return queues.values().stream().flatMap(tiers -> tiers.values().stream())
        .mapToDouble(QueueStat::arrivalsPerSecond).sum();
  }

  /** The stat of one queue, {@link QueueStat#EMPTY} when absent. */
  public QueueStat queue(String requestClass, Tier tier) {
    Map<Tier, QueueStat> tiers = queues.get(requestClass);
    return tiers == null ? QueueStat.EMPTY : tiers.getOrDefault(tier, QueueStat.EMPTY);
  }

  /** A builder-friendly tier map with every tier present. */
  public static Map<Tier, QueueStat> tiers(QueueStat turbo, QueueStat fast, QueueStat relax) {
    Map<Tier, QueueStat> map = new EnumMap<>(Tier.class);
    map.put(Tier.TURBO, turbo);
    map.put(Tier.FAST, fast);
    map.put(Tier.RELAX, relax);
    return map;
  }
}
