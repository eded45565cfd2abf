package dev.genmesh.launcher.impl;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig.PostgresConfig;
import dev.genmesh.users.IssuedKey;
import dev.genmesh.users.UserStore;
import io.vertx.core.Future;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The user database of {@code genmesh up}: a database {@code genmesh_users} on its own embedded
 * PostgreSQL server per region (a primary and a streaming standby in each other region,
 * {@code EmbeddedUserDb}), with a user {@code local} created on first start and given a key, which
 * {@code up} prints once. Later starts keep the user and issue no new key ({@code genmesh keys
 * issue --user local} gives another).
 */
public final class LocalUsers {
  public static final String DATABASE = "genmesh_users";
  public static final String LOCAL_USER = "local";
  /** {@code up} promotes a standby once the primary has not answered this long. */
  public static final long AUTO_PROMOTE_AFTER_MS = 5_000;

  private LocalUsers() {}

  /** The primary of {@code up}'s user database: {@code users.primary_region} when it runs, else the first region. */
  public static String primaryRegion(GenmeshConfig config) {
    String configured = config.users().primaryRegion();
    return config.regions().containsKey(configured) ? configured : config.regions().keySet().iterator().next();
  }

  /** The config with a copy of its user database per region, each on 127.0.0.1 at {@code ports}. */
  public static GenmeshConfig pointedAt(GenmeshConfig config, String primary, Map<String, Integer> ports) {
    if (!config.users().enabled()) {
      return config;
    }
    Map<String, PostgresConfig> copies = new LinkedHashMap<>();
    ports.forEach((region, port) -> copies.put(region, new PostgresConfig("127.0.0.1", port, DATABASE, "postgres", "", 4)));
    String local = copies.containsKey(config.users().localRegion()) ? config.users().localRegion() : "";
    long autoPromote = config.users().autoPromoteAfterMs() > 0 ? config.users().autoPromoteAfterMs() : AUTO_PROMOTE_AFTER_MS;
    return config.withUsers(config.users().withDatabases(primary, copies, local, autoPromote));
  }

  /** Migrates; on first start creates {@link #LOCAL_USER} and answers its new key. */
  public static Future<Optional<IssuedKey>> prepare(UserStore users) {
    return users.migrate()
        .compose(v -> users.user(LOCAL_USER))
        .compose(existing -> existing.isPresent()
            ? Future.succeededFuture(Optional.empty())
            : users.addUser(LOCAL_USER, List.of())
                .compose(user -> users.issueKey(LOCAL_USER, List.of(), false))
                .map(Optional::of));
  }
}
