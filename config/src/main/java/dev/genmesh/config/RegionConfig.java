package dev.genmesh.config;

import dev.genmesh.config.impl.Node;
import java.util.List;

/**
 * One region: its identity, its regional API, its Hazelcast cluster and its stores.
 *
 * @param code short prefix of the request ids this region issues (e.g. {@code usw})
 * @param apiUrl how the edge reaches the regional API; empty means http://127.0.0.1:httpPort
 * @param clusterPort first Hazelcast port of this region's members on this host
 * @param clusterMembers addresses (host:port or host:port-port) members join through (TCP-IP)
 */
public record RegionConfig(
    String name,
    String code,
    String httpHost,
    int httpPort,
    String apiUrl,
    int clusterPort,
    List<String> clusterMembers,
    PostgresConfig postgres,
    RedisConfig redis) {

  /** Where the request log lives. The password comes from config or env, never from the repo. */
  public record PostgresConfig(String host, int port, String database, String user, String password, int poolSize) {
    static PostgresConfig read(Node n) {
      PostgresConfig config = new PostgresConfig(
          n.string("host"),
          n.integer("port", 1, 65535),
          n.string("database"),
          n.string("user"),
          n.string("password", ""),
          n.integer("pool_size", 1, 512));
      n.finish();
      return config;
    }

    public PostgresConfig withEndpoint(String newHost, int newPort) {
      return new PostgresConfig(newHost, newPort, database, user, password, poolSize);
    }
  }

  /** Where the tier queues live; {@code keyPrefix} separates regions sharing one server. */
  /**
   * The region's queue Redis.
   *
   * @param url the Redis to use when there are no sentinels ({@code redis://[:password@]host:port[/db]})
   * @param keyPrefix every key of the region starts with it
   * @param sentinels Redis Sentinels to ask for the current master ({@code redis://host:port} each);
   *     empty: {@code url} is the Redis. With sentinels the client rides a failover to a replica
   * @param masterName the master's name in the sentinels' configuration (required with sentinels)
   */
  public record RedisConfig(String url, String keyPrefix, List<String> sentinels, String masterName) {
    public RedisConfig {
      sentinels = List.copyOf(sentinels);
    }

    /** A single Redis at {@code url}, no sentinels. */
    public RedisConfig(String url, String keyPrefix) {
      this(url, keyPrefix, List.of(), "");
    }

    public boolean viaSentinel() {
      return !sentinels.isEmpty();
    }

    /** The same Redis reached through these sentinels. */
    public RedisConfig withSentinels(List<String> newSentinels, String newMasterName) {
      return new RedisConfig(url, keyPrefix, newSentinels, newMasterName);
    }

    static RedisConfig read(Node n) {
      RedisConfig config = new RedisConfig(n.string("url"), n.string("key_prefix"), n.strings("sentinels", List.of()),
          n.string("master_name", ""));
      n.finish();
      for (String sentinel : config.sentinels) {
        if (!sentinel.matches("rediss?://[^/]+")) {
          throw new ConfigException(n.keyPath("sentinels"), "must be redis://host:port URLs, got '" + sentinel + "'");
        }
      }
      if (config.viaSentinel() && config.masterName.isBlank()) {
        throw new ConfigException(n.keyPath("master_name"), "is required with sentinels (the name they know the master by)");
      }
      return config;
    }
  }

  public String effectiveApiUrl() {
    return apiUrl.isBlank() ? "http://127.0.0.1:" + httpPort : apiUrl;
  }

  public RegionConfig withHttpPort(int port) {
    return new RegionConfig(name, code, httpHost, port, apiUrl, clusterPort, clusterMembers, postgres, redis);
  }

  public RegionConfig withApiUrl(String url) {
    return new RegionConfig(name, code, httpHost, httpPort, url, clusterPort, clusterMembers, postgres, redis);
  }

  public RegionConfig withCluster(int port, List<String> members) {
    return new RegionConfig(name, code, httpHost, httpPort, apiUrl, port, List.copyOf(members), postgres, redis);
  }

  public RegionConfig withStores(PostgresConfig pg, RedisConfig rd) {
    return new RegionConfig(name, code, httpHost, httpPort, apiUrl, clusterPort, clusterMembers, pg, rd);
  }

  static RegionConfig read(Node n) {
    String code = n.string("code");
    if (!code.matches("[a-z0-9]{2,8}")) {
      throw new ConfigException(n.keyPath("code"), "must be 2 to 8 lowercase letters or digits, got '" + code + "'");
    }
    RegionConfig config = new RegionConfig(
        n.name(),
        code,
        n.string("http_host"),
        n.integer("http_port", 0, 65535),
        n.string("api_url", ""),
        n.integer("cluster_port", 0, 65535),
        n.strings("cluster_members"),
        PostgresConfig.read(n.child("postgres")),
        RedisConfig.read(n.child("redis")));
    n.finish();
    return config;
  }
}
