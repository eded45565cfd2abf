package dev.genmesh.config;

import dev.genmesh.config.RegionConfig.PostgresConfig;
import dev.genmesh.config.impl.Node;
import java.util.Map;

/**
 * The user database (accounts, API keys, each user's generations) and what the edge does with it
 * (docs/security.md). Writes go to the primary's database, reads to this process's local copy:
 * today the same database; with synchronous replication a standby of it.
 *
 * @param enabled false: no user database; the edge knows only {@code edge.api_keys}
 * @param primaryRegion the region whose database takes the writes
 * @param localRegion the region whose copy this process reads; empty or a region without an entry
 *     in {@code databases}: the primary's
 * @param databases region → its copy of the user database
 * @param cacheMs how long an edge trusts a key it looked up: a revoked key stops working within it
 * @param shareKey the HMAC key of share links (set it by env, never in a file); empty: a random
 *     key per edge process, so links die with the process and work on that edge only
 * @param shareMaxTtlMs the longest a share link may live
 * @param listMaxPage the most generations {@code GET /v1/generations} answers per page
 */
public record UsersConfig(
    boolean enabled,
    String primaryRegion,
    String localRegion,
    Map<String, PostgresConfig> databases,
    long cacheMs,
    String shareKey,
    long shareMaxTtlMs,
    int listMaxPage) {

  /** The defaults of genmesh-defaults.yaml, for code that builds a config by hand: no user database. */
  public static UsersConfig disabled() {
    return new UsersConfig(false, "us-west", "", Map.of(), 2_000, "", 7L * 24 * 3_600_000, 100);
  }

  /** The database this process writes to. */
  public PostgresConfig primary() {
    PostgresConfig primary = databases.get(primaryRegion);
    if (primary == null) {
      throw new ConfigException("users.databases", "has no entry for the primary region '" + primaryRegion + "'");
    }
    return primary;
  }

  /** The database this process reads from: its local copy, else the primary. */
  public PostgresConfig local() {
    return databases.getOrDefault(localRegion, primary());
  }

  /** With one database for every region (the all-in-one {@code up}, tests). */
  public UsersConfig withDatabase(PostgresConfig database) {
    return new UsersConfig(true, primaryRegion, "", Map.of(primaryRegion, database), cacheMs, shareKey, shareMaxTtlMs,
        listMaxPage);
  }

  public UsersConfig withCacheMs(long newCacheMs) {
    return new UsersConfig(enabled, primaryRegion, localRegion, databases, newCacheMs, shareKey, shareMaxTtlMs, listMaxPage);
  }

  public UsersConfig withShareKey(String newShareKey) {
    return new UsersConfig(enabled, primaryRegion, localRegion, databases, cacheMs, newShareKey, shareMaxTtlMs, listMaxPage);
  }

  static UsersConfig read(Node n) {
    UsersConfig config = new UsersConfig(
        n.bool("enabled", true),
        n.string("primary_region"),
        n.string("local_region", ""),
        Map.copyOf(n.optionalEntries("databases", PostgresConfig::read)),
        n.integer("cache_ms", 0L, 600_000L),
        n.string("share_key", ""),
        n.integer("share_max_ttl_ms", 1_000L, 365L * 24 * 3_600_000),
        n.integer("list_max_page", 1, 1_000));
    n.finish();
    if (config.enabled && !config.databases.containsKey(config.primaryRegion)) {
      throw new ConfigException(n.keyPath("databases"), "has no entry for primary_region '" + config.primaryRegion + "'");
    }
    if (!config.shareKey.isEmpty() && config.shareKey.length() < 32) {
      throw new ConfigException(n.keyPath("share_key"), "must be at least 32 characters (a random secret), or empty");
    }
    return config;
  }
}
