package dev.genmesh.edge;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.EdgeConfig;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig.PostgresConfig;
import dev.genmesh.config.UsersConfig;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import dev.genmesh.users.UserStore;
import dev.genmesh.users.UserStores;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * An edge config in front of one fake region (us-west) that requires keys and has a user
 * database of its own in the test kit's PostgreSQL, and that database opened and migrated.
 */
final class UsersFixture {
  private static final long S = 10;
  private static final long CLOSE_S = 60;

  final GenmeshConfig config;
  final UserStore users;

  /** @param tweak changes the users section (cache time, rate limits) */
  UsersFixture(Vertx vertx, TestStores stores, FakeRegion region, UnaryOperator<UsersConfig> tweak) {
    GenmeshConfig defaults = ConfigLoader.defaults();
    config = defaults
        .withRegions(Map.of("us-west", defaults.region("us-west").withApiUrl(region.url())))
        .withEdge(new EdgeConfig("127.0.0.1", 0, 8192, 2000, 3_600_000L, 5_000L, Map.of("us-west", 20L))
            .withApiKeys(true, Map.of()))
        .withUsers(tweak.apply(defaults.users().withDatabase(new PostgresConfig("127.0.0.1", stores.postgresPort(),
            stores.createDatabase(), "postgres", "", 2))));
    users = UserStores.open(vertx, config.users());
    Waits.await(S, users.migrate());
  }

  /** An edge with this user database in front of {@code edgeConfig}'s regions, deployed on {@code vertx}. */
  EdgeVerticle deployEdge(Vertx vertx, GenmeshConfig edgeConfig, Clock clock) {
    EdgeVerticle edge = new EdgeVerticle(edgeConfig, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), clock, users);
    Waits.await(S, vertx.deployVerticle(edge));
    return edge;
  }

  /**
   * Closes the user database, then {@code vertx}; more patient than the other steps (a pool's close
   * waits for its connections, which took over 10 s once in a full run on a loaded machine).
   */
  void close(Vertx vertx) {
    Waits.await(CLOSE_S, users.close());
    Waits.await(CLOSE_S, vertx.close());
  }

  /** A new user allowed every tier, and a key of theirs. */
  String userWithKey(String user, boolean admin) {
    Waits.await(S, users.addUser(user, List.of()));
    return Waits.await(S, users.issueKey(user, List.of(), admin)).secret();
  }
}
