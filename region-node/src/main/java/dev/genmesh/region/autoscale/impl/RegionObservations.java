package dev.genmesh.region.autoscale.impl;

import dev.genmesh.protocol.Tier;
import dev.genmesh.region.KnownWorker;
import dev.genmesh.region.WorkerState;
import dev.genmesh.region.autoscale.Replacement;
import dev.genmesh.region.autoscale.ScalingObservation;
import dev.genmesh.region.autoscale.ScalingObservation.PoolState;
import dev.genmesh.region.autoscale.ScalingObservation.QueueStat;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import java.time.Clock;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Builds the policy's view of a live region: depths per tier from Redis (what workers can claim
 * now), average wait and arrivals per tier from the request log (the truth, shared by every node
 * of the region), and the workers per pool from the region's worker registry.
 *
 * <p>Limits: the queues are reported under request class {@code ""} (any pool may serve them);
 * the region does not keep depths per request class, so the policy sends all demand to the
 * cheapest pools. Pools report no measured service time yet ({@code meanServiceMs = 0}: the
 * policy uses {@code base_service_ms} over the GPU's speed).
 */
public final class RegionObservations {
  /** Arrivals are counted over this window. */
  static final int ARRIVAL_WINDOW_SECONDS = 60;
  private static final String STATS = "SELECT tier,"
      + " count(*) FILTER (WHERE status = 'QUEUED') AS waiting,"
      + " coalesce(avg(extract(epoch FROM now() - queued_at)) FILTER (WHERE status = 'QUEUED'), 0) AS wait_s,"
      + " count(*) FILTER (WHERE created_at > now() - make_interval(secs => " + ARRIVAL_WINDOW_SECONDS + ")) AS arrivals"
      + " FROM requests WHERE status = 'QUEUED' OR created_at > now() - make_interval(secs => " + ARRIVAL_WINDOW_SECONDS + ")"
      + " GROUP BY tier";

  private final Pool pool;
  private final Supplier<Future<Map<Tier, Long>>> depths;
  private final Supplier<Collection<KnownWorker>> workers;
  private final Clock clock;

  /**
   * @param depths the tier queues' depths ({@code TierQueue::depths})
   * @param workers the region's known workers ({@code WorkerRegistry::workers})
   */
  public RegionObservations(Pool pool, Supplier<Future<Map<Tier, Long>>> depths, Supplier<Collection<KnownWorker>> workers,
      Clock clock) {
    this.pool = pool;
    this.depths = depths;
    this.workers = workers;
    this.clock = clock;
  }

  public Future<ScalingObservation> observe(List<Replacement> replacements) {
    Future<Map<Tier, Long>> redisDepths = depths.get();
    Future<Map<Tier, double[]>> logStats = pool.query(STATS).execute().map(rows -> {
      Map<Tier, double[]> stats = new EnumMap<>(Tier.class);
      for (Row row : rows) {
        Tier.parse(row.getString("tier")).ifPresent(tier -> stats.put(tier, new double[] {row.getLong("waiting"), row.getNumeric("wait_s").doubleValue(),
            row.getLong("arrivals")}));
      }
      return stats;
    });
    return Future.all(redisDepths, logStats).map(all -> {
      Map<Tier, QueueStat> tiers = new EnumMap<>(Tier.class);
      for (Tier tier : Tier.values()) {
        double[] stat = logStats.result().getOrDefault(tier, new double[3]);
        long depth = redisDepths.result().getOrDefault(tier, 0L);
        tiers.put(tier, new QueueStat((int) Math.min(Integer.MAX_VALUE, depth),
            stat[0] > 0 ? Math.round(stat[1] * 1000) : 0, stat[2] / ARRIVAL_WINDOW_SECONDS));
      }
      return new ScalingObservation(clock.instant(), pools(workers.get()), Map.of("", tiers), replacements);
    });
  }

  /** Workers by pool (GPU class): healthy = ready, not ready = starting, draining; lost ones are not counted. */
  static Map<String, PoolState> pools(Collection<KnownWorker> known) {
    Map<String, List<KnownWorker>> byPool = new TreeMap<>();
    for (KnownWorker worker : known) {
      if (worker.gpuClass() != null && !worker.state().isLost() && worker.state() != WorkerState.NOT_LIVE) {
        byPool.computeIfAbsent(worker.gpuClass(), k -> new java.util.ArrayList<>()).add(worker);
      }
    }
    Map<String, PoolState> pools = new LinkedHashMap<>();
    byPool.forEach((name, members) -> {
      int ready = 0;
      int starting = 0;
      int draining = 0;
      double busy = 0;
      Map<String, Integer> models = new TreeMap<>();
      for (KnownWorker worker : members) {
        switch (worker.state()) {
          case HEALTHY -> {
            ready++;
            busy += Double.isFinite(worker.utilisation()) ? worker.utilisation() : 0;
          }
          case NOT_READY -> starting++;
          case DRAINING -> draining++;
          default -> { }
        }
        if (worker.state() != WorkerState.DRAINING) {
          worker.loadedModels().forEach(model -> models.merge(model, 1, Integer::sum));
        }
      }
      pools.put(name, new PoolState(ready, starting, draining, ready == 0 ? Double.NaN : busy / ready, 0, models));
    });
    return pools;
  }
}
