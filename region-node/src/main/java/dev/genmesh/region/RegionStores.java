package dev.genmesh.region;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.impl.GroupCommit;
import dev.genmesh.region.requests.impl.Migrations;
import dev.genmesh.region.requests.impl.PostgresPool;
import dev.genmesh.region.requests.impl.RegionSchema;
import dev.genmesh.replication.LogReplication;
import dev.genmesh.replication.RegionSchemas;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisRole;
import io.vertx.sqlclient.Pool;
import java.time.Clock;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The region's stores, opened at start: PostgreSQL (the request log, migrated, in the region's
 * schema, replicated to its peer: {@link LogReplication}) and Redis (the tier queues).
 */
final class RegionStores {
  private static final Logger LOG = LoggerFactory.getLogger(RegionStores.class);
  /** The kinds of statement the group commit counts apart when one commits alone (the transitions' event types and the rest). */
  private static final List<String> STATEMENT_KINDS = List.of("submit", "assigned", "step", "safety_pending", "completed",
      "failed", "queued", "cancelled", "fallback", "read", "usage_mark", GroupCommit.UNNAMED);

  private final Vertx vertx;
  private final GenmeshConfig config;
  private final RegionConfig region;
  private Pool pool;
  private Redis redis;
  private RequestLog log;
  private TierQueue queue;
  private LogReplication replication;

  RegionStores(Vertx vertx, GenmeshConfig config, RegionConfig region) {
    this.vertx = vertx;
    this.config = config;
    this.region = region;
  }

  /**
   * Connects PostgreSQL, makes the region's schema (moving tables an older version kept in
   * {@code public}), applies the migrations (read on {@code io}), starts replication, then
   * connects Redis.
   */
  Future<Void> open(RegionMetrics metrics, WorkerExecutor io, MeterRegistry meters, Clock clock) {
    return connectPostgres()
        .onSuccess(v -> metrics.groupCommit(log.writes(), GroupCommit::transactions, GroupCommit::statements,
            GroupCommit::retriedAlone, GroupCommit::waiting))
        .onSuccess(v -> metrics.groupCommitDetail(log.writes(), GroupCommit::lingered, STATEMENT_KINDS, GroupCommit::alone))
        .compose(v -> LogReplication.beforeFirstCommit(pool, config, region.name()))
        .compose(v -> RegionSchema.prepare(pool, RegionSchemas.schemaOf(region.name())))
        .compose(v -> migrate(io))
        .compose(v -> {
          replication = new LogReplication(vertx, config, region.name(), pool, RegionSchema.REPLICATED, meters, clock);
          return replication.start(schema -> replicaTables(io, schema));
        })
        .compose(v -> connectRedis(metrics));
  }

  LogReplication replication() {
    return replication;
  }

  /** The ward's tables in its schema of this database, by the same migrations (the subscription fills them). */
  private Future<Void> replicaTables(WorkerExecutor io, String schema) {
    Pool replica = PostgresPool.create(vertx, region, 1, schema, null);
    return RegionSchema.prepareReplica(pool, schema)
        .compose(v -> new Migrations(io, replica).apply())
        .<Void>mapEmpty()
        .eventually(replica::close);
  }

  Pool pool() {
    return pool;
  }

  RequestLog log() {
    return log;
  }

  TierQueue queue() {
    return queue;
  }

  /** Closes whatever was opened (Redis, then PostgreSQL). */
  Future<Void> close() {
    Future<Void> chain = Future.succeededFuture();
    if (replication != null) {
      LogReplication stopping = replication;
      replication = null;
      chain = chain.transform(v -> stopping.stop());
    }
    if (redis != null) {
      Redis closing = redis;
      redis = null;
      chain = chain.transform(v -> closing.close());
    }
    if (pool != null) {
      Pool closing = pool;
      pool = null;
      chain = chain.transform(v -> closing.close());
    }
    return chain;
  }

  private Future<Void> connectPostgres() {
    RegionConfig.PostgresConfig pg = region.postgres();
    pool = PostgresPool.create(vertx, region, pg.poolSize(), RegionSchemas.schemaOf(region.name()),
        LogReplication.sessionSynchronousCommit(config.replication()));
    log = new RequestLog(pool, config.queue().commitLingerUs());
    return log.ping().recover(err -> Future.failedFuture(new IllegalStateException(
        "PostgreSQL at " + pg.host() + ":" + pg.port() + "/" + pg.database() + " is unreachable: " + err.getMessage(), err)));
  }

  private Future<Void> migrate(WorkerExecutor io) {
    return new Migrations(io, pool).apply()
        .onSuccess(applied -> {
          if (!applied.isEmpty()) {
            LOG.info("region {}: schema migrations applied: {}", region.name(), applied);
          }
        })
        .recover(err -> Future.failedFuture(new IllegalStateException("schema migration failed: " + err.getMessage(), err)))
        .mapEmpty();
  }

  private Future<Void> connectRedis(RegionMetrics metrics) {
    RegionConfig.RedisConfig rd = region.redis();
    RedisOptions options = new RedisOptions()
        .setMaxPoolSize(Math.max(8, region.postgres().poolSize()))
        .setMaxPoolWaiting(1024)
        .setMaxWaitingHandlers(4096);
    String where;
    if (rd.viaSentinel()) {
      // The client asks the sentinels for the current master on every new connection, so once a
      // failover promoted a replica, the next connections go to it (the queues are then rebuilt
      // from the log by RedisWatch: what the old master had not replicated is not lost, I2).
      options.setType(RedisClientType.SENTINEL).setRole(RedisRole.MASTER).setMasterName(rd.masterName());
      rd.sentinels().forEach(options::addConnectionString);
      where = "master " + rd.masterName() + " through sentinels " + rd.sentinels();
    } else {
      options.setConnectionString(rd.url());
      where = withoutCredentials(rd.url());
    }
    redis = Redis.createClient(vertx, options);
    queue = new TierQueue(redis, rd.keyPrefix(), metrics::redisError, config.queue().relaxShare(),
        config.queue().routingHoldMs());
    return queue.ping().recover(err -> Future.failedFuture(new IllegalStateException(
        "Redis at " + where + " is unreachable: " + err.getMessage(), err)));
  }

  private static String withoutCredentials(String url) {
    return url.replaceAll("//[^@/]*@", "//***@");
  }
}
