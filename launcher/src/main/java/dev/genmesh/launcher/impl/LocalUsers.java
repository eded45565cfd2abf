package dev.genmesh.launcher.impl;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig.PostgresConfig;
import dev.genmesh.users.IssuedKey;
import dev.genmesh.users.UserStore;
import io.vertx.core.Future;
import java.util.List;
import java.util.Optional;

/**
 * The user database of {@code genmesh up}: a database {@code genmesh_users} in the embedded
 * PostgreSQL, with a user {@code local} created on first start and given a key, which {@code up}
 * prints once. Later starts keep the user and issue no new key ({@code genmesh keys issue --user
 * local} gives another).
 */
public final class LocalUsers {
  public static final String DATABASE = "genmesh_users";
  public static final String LOCAL_USER = "local";

  private LocalUsers() {}

  /** The config with its user database in the embedded PostgreSQL on {@code port}. */
  public static GenmeshConfig pointedAt(GenmeshConfig config, int port) {
    if (!config.users().enabled()) {
      return config;
    }
    return config.withUsers(config.users().withDatabase(new PostgresConfig("127.0.0.1", port, DATABASE, "postgres", "", 4)));
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
