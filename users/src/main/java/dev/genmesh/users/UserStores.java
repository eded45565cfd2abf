package dev.genmesh.users;

import dev.genmesh.config.RegionConfig.PostgresConfig;
import dev.genmesh.config.UsersConfig;
import dev.genmesh.users.impl.PgUserStore;
import dev.genmesh.users.impl.UserDbPools;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Opens the configured user database: a pool per copy ({@code users.databases}), writes to the
 * current primary (found by asking the copies, so a promotion is followed without a config change),
 * reads from the local copy ({@code users.local_region}).
 */
public final class UserStores {
  private static final int CONNECT_TIMEOUT_MS = 3000;
  private static final int POOL_WAIT_SECONDS = 5;

  private UserStores() {}

  public static UserStore open(Vertx vertx, UsersConfig users) {
    return new PgUserStore(pools(vertx, users));
  }

  /** The pools of every copy (for the store, and for {@link UserDbPromotion} and {@link UserDbWatch}). */
  static UserDbPools pools(Vertx vertx, UsersConfig users) {
    if (!users.enabled()) {
      throw new IllegalStateException("users.enabled is false: there is no user database to open");
    }
    users.primary(); // fails clearly when the primary has no entry
    Map<String, Pool> copies = new LinkedHashMap<>();
    users.databases().entrySet().stream()
        .sorted((a, b) -> a.getKey().equals(users.primaryRegion()) ? -1 : b.getKey().equals(users.primaryRegion()) ? 1
            : a.getKey().compareTo(b.getKey()))
        .forEach(e -> copies.put(e.getKey(), pool(vertx, e.getValue(), e.getKey())));
    return new UserDbPools(copies, users.primaryRegion(), users.localRegion());
  }

  private static Pool pool(Vertx vertx, PostgresConfig pg, String region) {
    PgConnectOptions connect = new PgConnectOptions().setHost(pg.host()).setPort(pg.port()).setDatabase(pg.database())
        .setUser(pg.user()).setCachePreparedStatements(true);
    if (!pg.password().isBlank()) {
      connect.setPassword(pg.password());
    }
    return PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(pg.poolSize()).setName("genmesh-users-" + region)
            .setConnectionTimeout(POOL_WAIT_SECONDS).setConnectionTimeoutUnit(TimeUnit.SECONDS))
        .with(new NetClientOptions().setConnectTimeout(CONNECT_TIMEOUT_MS))
        .connectingTo(connect)
        .using(vertx)
        .build();
  }
}
