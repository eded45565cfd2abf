package dev.genmesh.users;

import dev.genmesh.config.RegionConfig.PostgresConfig;
import dev.genmesh.config.UsersConfig;
import dev.genmesh.users.impl.PgUserStore;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.util.concurrent.TimeUnit;

/** Opens the configured user database: the primary for writes, the local copy for reads. */
public final class UserStores {
  private static final int CONNECT_TIMEOUT_MS = 3000;
  private static final int POOL_WAIT_SECONDS = 5;

  private UserStores() {}

  public static UserStore open(Vertx vertx, UsersConfig users) {
    if (!users.enabled()) {
      throw new IllegalStateException("users.enabled is false: there is no user database to open");
    }
    Pool writes = pool(vertx, users.primary(), "primary");
    Pool reads = users.local().equals(users.primary()) ? writes : pool(vertx, users.local(), "local");
    return new PgUserStore(writes, reads);
  }

  private static Pool pool(Vertx vertx, PostgresConfig pg, String role) {
    PgConnectOptions connect = new PgConnectOptions().setHost(pg.host()).setPort(pg.port()).setDatabase(pg.database())
        .setUser(pg.user()).setCachePreparedStatements(true);
    if (!pg.password().isBlank()) {
      connect.setPassword(pg.password());
    }
    return PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(pg.poolSize()).setName("genmesh-users-" + role)
            .setConnectionTimeout(POOL_WAIT_SECONDS).setConnectionTimeoutUnit(TimeUnit.SECONDS))
        .with(new NetClientOptions().setConnectTimeout(CONNECT_TIMEOUT_MS))
        .connectingTo(connect)
        .using(vertx)
        .build();
  }
}
