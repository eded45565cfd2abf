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
 * @param rateLimits submits per second per user and tier, counted in a Redis every edge shares
 * @param autoPromoteAfterMs the primary unreachable this long: the process running {@code UserDbWatch}
 *     (only {@code genmesh up}) promotes the most advanced standby; 0: never (an operator or
 *     CloudNativePG promotes)
 */
public record UsersConfig(
    boolean enabled,
    String primaryRegion,
    String localRegion,
    Map<String, PostgresConfig> databases,
    long cacheMs,
    String shareKey,
    long shareMaxTtlMs,
    int listMaxPage,
    RateLimits rateLimits,
    long autoPromoteAfterMs,
    GpuQuota gpuQuota) {

  /**
   * GPU-seconds per user per calendar month (UTC) for fast and turbo together (Midjourney's "fast
   * hours"), metered from the GPU time workers report for completed generations. Past it, fast and
   * turbo answer 429 and relax still works, behind others once the user is past
   * {@code relaxHeavyFraction} of the quota.
   *
   * @param secondsPerMonth the default quota (a user's {@code gpu_seconds_per_month} overrides it); 0: unmetered
   * @param relaxHeavyFraction the share of the quota past which relax submits get {@code relaxPriority}
   * @param relaxPriority the regional priority of those relax submits (negative: that many places back)
   */
  public record GpuQuota(long secondsPerMonth, double relaxHeavyFraction, int relaxPriority) {
    public static final GpuQuota OFF = new GpuQuota(0, 1.0, -50);

    public boolean metered() {
      return secondsPerMonth > 0;
    }

    static GpuQuota read(Node n) {
      GpuQuota quota = new GpuQuota(n.integer("seconds_per_month", 0L, 100L * 365 * 86_400),
          n.decimal("relax_heavy_fraction", 0.0, 100.0), (int) n.integer("relax_priority", -1000L, 0L));
      n.finish();
      return quota;
    }
  }

  /** The replication name of a region's copy: its {@code application_name} and slot on the primary. */
  public static String standbyName(String region) {
    return "users_" + region.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]", "_");
  }

  /**
   * A token bucket per user and tier (GCRA, one Lua script in Redis, so every edge sharing the
   * Redis counts the same submits): {@code perSecond} submits per second on average, bursts of
   * up to {@code burst}.
   *
   * @param redisUrl empty: no rate limits
   * @param keyPrefix the limiter's keys in that Redis
   */
  public record RateLimits(String redisUrl, String keyPrefix, Map<String, Double> perSecond, Map<String, Long> burst) {
    public static final RateLimits OFF = new RateLimits("", "genmesh:rate:", Map.of(), Map.of());

    public boolean enabled() {
      return !redisUrl.isBlank();
    }

    public RateLimits withRedis(String url, String prefix) {
      return new RateLimits(url, prefix, perSecond, burst);
    }

    public RateLimits with(String tier, double newPerSecond, long newBurst) {
      Map<String, Double> rates = new java.util.HashMap<>(perSecond);
      Map<String, Long> bursts = new java.util.HashMap<>(burst);
      rates.put(tier, newPerSecond);
      bursts.put(tier, newBurst);
      return new RateLimits(redisUrl, keyPrefix, Map.copyOf(rates), Map.copyOf(bursts));
    }

    static RateLimits read(Node n) {
      RateLimits limits = new RateLimits(n.string("redis_url", ""), n.string("key_prefix", "genmesh:rate:"),
          Map.copyOf(n.decimals("per_second", 0.000001, 1_000_000)), Map.copyOf(n.integers("burst", 1, 1_000_000)));
      n.finish();
      if (!limits.perSecond.keySet().equals(limits.burst.keySet())) {
        throw new ConfigException(n.keyPath("burst"), "must name the same tiers as per_second " + limits.perSecond.keySet());
      }
      return limits;
    }
  }

  /** The defaults of genmesh-defaults.yaml, for code that builds a config by hand: no user database. */
  public static UsersConfig disabled() {
    return new UsersConfig(false, "us-west", "", Map.of(), 2_000, "", 7L * 24 * 3_600_000, 100, RateLimits.OFF, 0, GpuQuota.OFF);
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

  /** With one copy per region (region → its server), the primary's among them ({@code genmesh up}, tests). */
  public UsersConfig withDatabases(String newPrimaryRegion, Map<String, PostgresConfig> copies, String newLocalRegion,
      long newAutoPromoteAfterMs) {
    return new UsersConfig(true, newPrimaryRegion, newLocalRegion, Map.copyOf(copies), cacheMs, shareKey, shareMaxTtlMs,
        listMaxPage, rateLimits, newAutoPromoteAfterMs, gpuQuota);
  }

  /** Whether other regions hold copies (standbys) of the primary's database. */
  public boolean replicated() {
    return databases.size() > 1;
  }

  /** With one database for every region (the all-in-one {@code up}, tests). */
  public UsersConfig withDatabase(PostgresConfig database) {
    return new UsersConfig(true, primaryRegion, "", Map.of(primaryRegion, database), cacheMs, shareKey, shareMaxTtlMs,
        listMaxPage, rateLimits, autoPromoteAfterMs, gpuQuota);
  }

  public UsersConfig withGpuQuota(GpuQuota newGpuQuota) {
    return new UsersConfig(enabled, primaryRegion, localRegion, databases, cacheMs, shareKey, shareMaxTtlMs, listMaxPage,
        rateLimits, autoPromoteAfterMs, newGpuQuota);
  }

  public UsersConfig withCacheMs(long newCacheMs) {
    return new UsersConfig(enabled, primaryRegion, localRegion, databases, newCacheMs, shareKey, shareMaxTtlMs, listMaxPage,
        rateLimits, autoPromoteAfterMs, gpuQuota);
  }

  public UsersConfig withShareKey(String newShareKey) {
    return new UsersConfig(enabled, primaryRegion, localRegion, databases, cacheMs, newShareKey, shareMaxTtlMs, listMaxPage,
        rateLimits, autoPromoteAfterMs, gpuQuota);
  }

  public UsersConfig withRateLimits(RateLimits newRateLimits) {
    return new UsersConfig(enabled, primaryRegion, localRegion, databases, cacheMs, shareKey, shareMaxTtlMs, listMaxPage,
        newRateLimits, autoPromoteAfterMs, gpuQuota);
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
        n.integer("list_max_page", 1, 1_000),
        RateLimits.read(n.child("rate_limits")),
        n.integer("auto_promote_after_ms", 0L, 3_600_000L),
        GpuQuota.read(n.child("gpu_quota")));
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
