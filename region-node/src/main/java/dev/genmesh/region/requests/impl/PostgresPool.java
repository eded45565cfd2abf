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
    PoolOptions poolOptions = new PoolOptions()
        .setMaxSize(pg.poolSize())
        .setName("genmesh-region-" + region.name())
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
