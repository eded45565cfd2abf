package dev.genmesh.region.requests.impl;

import dev.genmesh.config.RegionConfig;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.util.concurrent.TimeUnit;

/** The region's PostgreSQL pool: cached prepared statements, bounded connect and pool waits. */
public final class PostgresPool {
  private static final int CONNECT_TIMEOUT_MS = 3000;
  private static final int POOL_WAIT_SECONDS = 5;

  private PostgresPool() {}

  public static Pool create(Vertx vertx, RegionConfig region) {
    return create(vertx, region, region.postgres().poolSize(), null, null);
  }

  /**
   * @param size connections at most
   * @param schema the connections' search_path: the schema whose tables they use (null: the database's default)
   * @param synchronousCommit the connections' synchronous_commit ({@code on}: a commit waits for the
   *     synchronous standbys, the peer region in sync replication; {@code local}: it does not); null: the server's
   */
  public static Pool create(Vertx vertx, RegionConfig region, int size, String schema, String synchronousCommit) {
    RegionConfig.PostgresConfig pg = region.postgres();
    PgConnectOptions connect = new PgConnectOptions()
        .setHost(pg.host())
        .setPort(pg.port())
        .setDatabase(pg.database())
        .setUser(pg.user())
        .setCachePreparedStatements(true);
    if (!pg.password().isBlank()) {
      connect.setPassword(pg.password());
    }
    if (schema != null) {
      connect.addProperty("search_path", schema);
    }
    if (synchronousCommit != null) {
      connect.addProperty("synchronous_commit", synchronousCommit);
    }
    PoolOptions poolOptions = new PoolOptions()
        .setMaxSize(size)
        .setName("genmesh-region-" + region.name() + (schema == null ? "" : "-" + schema))
        .setConnectionTimeout(POOL_WAIT_SECONDS)
        .setConnectionTimeoutUnit(TimeUnit.SECONDS);
    return PgBuilder.pool()
        .with(poolOptions)
        .with(new NetClientOptions().setConnectTimeout(CONNECT_TIMEOUT_MS))
        .connectingTo(connect)
        .using(vertx)
        .build();
  }
}
