package dev.genmesh.region.autoscale.impl;

import dev.genmesh.autoscaler.Replacement;
import dev.genmesh.autoscaler.ScalingObservation.PoolState;
import dev.genmesh.autoscaler.ScalingObservation.QueueStat;
import dev.genmesh.autoscaler.ScalingObservation;
import dev.genmesh.protocol.Tier;
import dev.genmesh.region.workers.KnownWorker;
import dev.genmesh.region.workers.WorkerState;
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
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Builds the policy's view of a live region (docs/autoscaling.md, "In the region node"): per
 * request class and tier, waiting count, age and arrivals from the request log, with the Redis
 * queue depths split in the log's proportions; per pool, the workers the node knows and the mean
 * generation time over the last {@value #SERVICE_WINDOW_SECONDS} s. A batch's requests each report
 * the batch's time, so a batching pool's measured service time is above its time per request.
 */
public final class RegionObservations {
  /** Arrivals are counted over this window. */
  static final int ARRIVAL_WINDOW_SECONDS = 60;
  /** A pool's service time is the mean over the requests completed in this window. */
  static final int SERVICE_WINDOW_SECONDS = 600;
  private static final String STATS = "SELECT coalesce(request_class, '') AS request_class, tier,"
      + " count(*) FILTER (WHERE status = 'QUEUED') AS waiting,"
      + " coalesce(avg(extract(epoch FROM now() - queued_at)) FILTER (WHERE status = 'QUEUED'), 0) AS wait_s,"
      + " count(*) FILTER (WHERE created_at > now() - make_interval(secs => " + ARRIVAL_WINDOW_SECONDS + ")) AS arrivals"
      + " FROM requests WHERE status = 'QUEUED' OR created_at > now() - make_interval(secs => " + ARRIVAL_WINDOW_SECONDS + ")"
      + " GROUP BY 1, 2";
  // Generation time: from the first step (else the claim) to the result (SAFETY_PENDING), not
  // the safety check's time.
  private static final String SERVICE = "SELECT gpu_class, avg(greatest(0, extract(epoch FROM"
      + " coalesce(safety_pending_at, completed_at) - coalesce(started_at, assigned_at)))) AS run_s"
      + " FROM requests WHERE status = 'COMPLETED' AND gpu_class IS NOT NULL"
      + " AND completed_at > now() - make_interval(secs => " + SERVICE_WINDOW_SECONDS + ")"
      + " AND coalesce(started_at, assigned_at) IS NOT NULL GROUP BY gpu_class";

  /** One queue's figures from the log. */
  record LogStat(long waiting, double waitSeconds, long arrivals) {}

  private final Pool pool;
  private final Supplier<Future<Map<Tier, Long>>> depths;
  private final Supplier<Collection<KnownWorker>> workers;
  private final Function<String, String> modelFamily;
  private final Clock clock;

  /**
   * @param depths the tier queues' depths ({@code TierQueue::depths})
   * @param workers the region's known workers ({@code WorkerRegistry::workers})
   * @param modelFamily model name → its {@code model_mix} family ({@code GenmeshConfig::modelFamily})
   */
  public RegionObservations(Pool pool, Supplier<Future<Map<Tier, Long>>> depths, Supplier<Collection<KnownWorker>> workers,
      Function<String, String> modelFamily, Clock clock) {
    this.pool = pool;
    this.depths = depths;
    this.workers = workers;
    this.modelFamily = modelFamily;
    this.clock = clock;
  }

  public Future<ScalingObservation> observe(List<Replacement> replacements) {
    Future<Map<Tier, Long>> redisDepths = depths.get();
    Future<Map<String, Map<Tier, LogStat>>> logStats = pool.query(STATS).execute().map(rows -> {
      Map<String, Map<Tier, LogStat>> stats = new TreeMap<>();
      for (Row row : rows) {
        String requestClass = row.getString("request_class");
        Tier.parse(row.getString("tier")).ifPresent(tier -> stats.computeIfAbsent(requestClass, k -> new EnumMap<>(Tier.class))
            .put(tier, new LogStat(row.getLong("waiting"), row.getNumeric("wait_s").doubleValue(), row.getLong("arrivals"))));
      }
      return stats;
    });
    Future<Map<String, Long>> serviceMs = pool.query(SERVICE).execute().map(rows -> {
      Map<String, Long> means = new TreeMap<>();
      for (Row row : rows) {
        means.put(row.getString("gpu_class"), Math.round(row.getNumeric("run_s").doubleValue() * 1000));
      }
      return means;
    });
    return Future.all(redisDepths, logStats, serviceMs).map(all -> new ScalingObservation(clock.instant(),
        pools(workers.get(), modelFamily, serviceMs.result()), queues(logStats.result(), redisDepths.result()), replacements));
  }

  /**
   * Queues per request class and tier. Redis knows a tier's depth but not its classes: each
   * class gets the share of the depth that it has of the tier's waiting rows in the log (the
   * whole depth goes to {@code ""} when the log shows none waiting).
   */
  static Map<String, Map<Tier, QueueStat>> queues(Map<String, Map<Tier, LogStat>> log, Map<Tier, Long> depths) {
    Map<String, Map<Tier, QueueStat>> queues = new LinkedHashMap<>();
    queues.put("", emptyTiers());
    log.keySet().forEach(requestClass -> queues.put(requestClass, emptyTiers()));
    for (Tier tier : Tier.values()) {
      long depth = depths.getOrDefault(tier, 0L);
      long waiting = log.values().stream().mapToLong(byTier -> byTier.getOrDefault(tier, new LogStat(0, 0, 0)).waiting()).sum();
      long left = depth;
      String largest = "";
      long largestWaiting = -1;
      for (Map.Entry<String, Map<Tier, LogStat>> entry : log.entrySet()) {
        LogStat stat = entry.getValue().get(tier);
        if (stat == null) {
          continue;
        }
        long share = waiting == 0 ? 0 : depth * stat.waiting() / waiting;
        left -= share;
        if (stat.waiting() > largestWaiting) {
          largest = entry.getKey();
          largestWaiting = stat.waiting();
        }
        queues.get(entry.getKey()).put(tier, new QueueStat((int) Math.min(Integer.MAX_VALUE, share),
            stat.waiting() > 0 ? Math.round(stat.waitSeconds() * 1000) : 0, stat.arrivals() / (double) ARRIVAL_WINDOW_SECONDS));
      }
      if (left > 0) { // rounding, or nothing waiting in the log: the rest to the largest queue
        String target = waiting == 0 ? "" : largest;
        QueueStat stat = queues.get(target).get(tier);
        queues.get(target).put(tier, new QueueStat((int) Math.min(Integer.MAX_VALUE, stat.depth() + left),
            stat.averageWaitMs(), stat.arrivalsPerSecond()));
      }
    }
    return queues;
  }

  private static Map<Tier, QueueStat> emptyTiers() {
    return ScalingObservation.tiers(QueueStat.EMPTY, QueueStat.EMPTY, QueueStat.EMPTY);
  }

  /**
   * Workers by pool (GPU class): healthy = ready, not ready = starting, draining; lost ones are not
   * counted. Loaded models are counted by family, once per worker.
   */
  static Map<String, PoolState> pools(Collection<KnownWorker> known, Function<String, String> modelFamily,
      Map<String, Long> serviceMs) {
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
        if (worker.state() != WorkerState.DRAINING) { // each family once per worker
          worker.loadedModels().stream().map(modelFamily).distinct().forEach(family -> models.merge(family, 1, Integer::sum));
        }
      }
      pools.put(name, new PoolState(ready, starting, draining, ready == 0 ? Double.NaN : busy / ready,
          serviceMs.getOrDefault(name, 0L), models));
    });
    return pools;
  }
}
