package dev.genmesh.region;

import dev.genmesh.config.BreakerConfig;
import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ImagesConfig;
import dev.genmesh.config.QueueConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.testkit.TestStores;
import java.util.HashMap;
import java.util.Map;

/**
 * The region under test: the defaults' us-west pointed at the shared {@link TestStores} (or at
 * stores a test starts itself), and the config changes region tests reach for.
 */
public final class TestRegion {
  public static final String REGION = "us-west";

  private TestRegion() {}

  /** One bucket for every region test of the JVM: keys start with request ids, which are unique. */
  private static ImagesConfig images;

  /**
   * The defaults with region us-west pointed at {@code stores} (its object store too), HTTP on a
   * random port, and without replication (the shared test server has no peer; replication tests
   * use {@link #replicated}).
   */
  public static GenmeshConfig config(TestStores stores, String database, String keyPrefix) {
    GenmeshConfig base = ConfigLoader.defaults();
    return withImages(config(base.withReplication(base.replication().withEnabled(false)), "127.0.0.1",
        stores.postgresPort(), database, stores.redisUrl(), keyPrefix), stores);
  }

  /**
   * The defaults with only the regions of {@code servers}, each pointed at its own PostgreSQL
   * server (replication between them as configured: the default ring), all at the shared Redis
   * (a key prefix each) and object store, HTTP on random ports.
   */
  public static GenmeshConfig replicated(TestStores stores, Map<String, dev.genmesh.testkit.RegionPostgres> servers) {
    GenmeshConfig base = ConfigLoader.defaults();
    Map<String, RegionConfig> regions = new java.util.LinkedHashMap<>();
    servers.forEach((name, server) -> regions.put(name, base.region(name).withHttpPort(0).withStores(
        new RegionConfig.PostgresConfig("127.0.0.1", server.port(), server.database(), "postgres", "", 4),
        new RegionConfig.RedisConfig(stores.redisUrl(), TestStores.newKeyPrefix()))));
    return withImages(base.withRegions(regions), stores);
  }

  /** A region of its own for one test: a fresh database and Redis key prefix, and the config pointing at them. */
  public record Fresh(String database, String prefix, GenmeshConfig config) {}

  /** {@link #config} on a database and key prefix nobody else uses. */
  public static Fresh fresh(TestStores stores) {
    String database = stores.createDatabase();
    String prefix = TestStores.newKeyPrefix();
    return new Fresh(database, prefix, config(stores, database, prefix));
  }

  /** {@code base} with its images in the object store of {@code stores}, in the region tests' bucket. */
  public static GenmeshConfig withImages(GenmeshConfig base, TestStores stores) {
    return base.withImages(images(stores));
  }

  public static synchronized ImagesConfig images(TestStores stores) {
    if (images == null) {
      images = ConfigLoader.load(null, stores.imagesEnv(stores.createBucket())).images();
    }
    return images;
  }

  /** The images settings a region test config got (for test workers that upload). */
  public static synchronized ImagesConfig images() {
    if (images == null) {
      throw new IllegalStateException("no region test config pointed at an object store yet");
    }
    return images;
  }

  /** {@code base} with region us-west pointed at the given stores, HTTP on a random port. */
  public static GenmeshConfig config(
      GenmeshConfig base, String pgHost, int pgPort, String database, String redisUrl, String keyPrefix) {
    RegionConfig region = base.region(REGION);
    RegionConfig.PostgresConfig pg = new RegionConfig.PostgresConfig(pgHost, pgPort, database, "postgres", "", 4);
    RegionConfig changed = region.withHttpPort(0).withStores(pg, new RegionConfig.RedisConfig(redisUrl, keyPrefix));
    Map<String, RegionConfig> regions = new HashMap<>(base.regions());
    regions.put(REGION, changed);
    return base.withRegions(regions);
  }

  /**
   * {@code config} with only us-west and {@code other}, the latter on a database and key prefix of
   * its own in {@code stores}, HTTP on a random port.
   */
  public static GenmeshConfig withSecondRegion(GenmeshConfig config, TestStores stores, String other) {
    RegionConfig second = config.region(other).withHttpPort(0).withStores(
        new RegionConfig.PostgresConfig("127.0.0.1", stores.postgresPort(), stores.createDatabase(), "postgres", "", 4),
        new RegionConfig.RedisConfig(stores.redisUrl(), TestStores.newKeyPrefix()));
    Map<String, RegionConfig> regions = new HashMap<>();
    regions.put(REGION, config.region(REGION));
    regions.put(other, second);
    return config.withRegions(regions);
  }

  /** Circuit breakers that never open (for tests about other things that fail requests on purpose). */
  public static final BreakerConfig NO_BREAKERS = new BreakerConfig(new BreakerConfig.Breaker(10_000, 1, 1000),
      new BreakerConfig.Breaker(10_000, 1, 1000), new BreakerConfig.GlobalBreaker(1.0, 60_000));

  public static GenmeshConfig withLeaseMs(GenmeshConfig base, long leaseMs) {
    QueueConfig q = base.queue();
    return withQueue(base, new QueueConfig(leaseMs, q.maxRetries(), q.retryPriorityBoost(), q.backoffCapMs(),
        q.relaxShare(), q.leaseReapIntervalMs(), q.routingHoldMs()));
  }

  /** {@code base} with the lease reaper running every {@code reapMs} (tests want it quick). */
  public static GenmeshConfig withReapIntervalMs(GenmeshConfig base, long reapMs) {
    QueueConfig q = base.queue();
    return withQueue(base, new QueueConfig(q.leaseMs(), q.maxRetries(), q.retryPriorityBoost(), q.backoffCapMs(),
        q.relaxShare(), reapMs, q.routingHoldMs()));
  }

  public static GenmeshConfig withQueue(GenmeshConfig base, QueueConfig queue) {
    return new GenmeshConfig(base.edge(), base.regions(), base.models(), base.worker(), queue, base.health(),
        base.breakers(), base.autoscaling(), base.gpus(), base.routing(), base.dr(), base.registry(), base.safety(),
        base.images(), base.failover(), base.users(), base.replication());
  }
}
