package dev.genmesh.launcher.fault;

import dev.genmesh.embedded.EmbeddedObjectStore;
import dev.genmesh.embedded.EmbeddedRedisHa;
import dev.genmesh.embedded.EmbeddedStores;
import dev.genmesh.embedded.FaultProxy;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import redis.embedded.RedisServer;

/**
 * PostgreSQL, Redis and the S3-compatible object store for a fault test, started by the test JVM
 * on fixed free ports so that each can be stopped, killed and started again where the region
 * processes expect it (the object store runs in the test JVM itself). Runs without fsync (nothing
 * here survives a power loss, only process faults).
 */
final class FaultStores implements AutoCloseable {
  private final Path pgDir;
  private final Path redisDir;
  private final int pgPort;
  private final int redisPort;
  private final Path objectsDir;
  private EmbeddedPostgres postgres;
  private RedisServer redis;
  private EmbeddedObjectStore objects;
  private FaultProxy objectsProxy;
  private EmbeddedRedisHa redisHa;

  private FaultStores(Path dir) throws IOException {
    this.objectsDir = Files.createDirectories(dir.resolve("s3"));
    this.pgDir = Files.createDirectories(dir.resolve("postgres"));
    this.redisDir = Files.createDirectories(dir.resolve("redis"));
    this.pgPort = EmbeddedStores.freePort();
    this.redisPort = EmbeddedStores.freePort();
  }

  static FaultStores start(Path dir, String database) {
    try {
      FaultStores stores = new FaultStores(dir);
      try {
        stores.startPostgres();
        EmbeddedStores.createDatabases(stores.postgres, List.of(database));
        stores.startEmptyRedis();
        stores.objects = EmbeddedObjectStore.start(stores.objectsDir, List.of());
        return stores;
      } catch (RuntimeException e) {
        stores.close();
        throw e;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  int postgresPort() {
    return pgPort;
  }

  int redisPort() {
    return redisPort;
  }

  EmbeddedObjectStore objectStore() {
    return objects;
  }

  /**
   * A replica of the Redis and a sentinel over both ({@link EmbeddedRedisHa}): regions made after
   * this reach Redis through the sentinel, so a killed master is replaced by its replica.
   */
  EmbeddedRedisHa startRedisHa(long downAfterMs) {
    redisHa = EmbeddedRedisHa.start(redisDir.getParent(), redisPort, false, downAfterMs);
    return redisHa;
  }

  /** The sentinels regions reach Redis through (empty: none, the Redis directly). */
  List<String> redisSentinels() {
    return redisHa == null ? List.of() : redisHa.sentinelUrls();
  }

  /**
   * Puts a {@link FaultProxy} in front of the object store: regions made after this reach their
   * images (uploads, presigned reads, deletes) only through it, so the test can slow it or cut it.
   */
  FaultProxy proxyObjectStore() {
    if (objectsProxy == null) {
      objectsProxy = FaultProxy.start("127.0.0.1", objects.port());
    }
    return objectsProxy;
  }

  /** Where regions reach the object store: the proxy once there is one, else the store itself. */
  String objectStoreEndpoint() {
    return objectsProxy == null ? objects.endpoint() : objectsProxy.url();
  }

  /** A clean, fast shutdown of PostgreSQL: its sessions are cut, the data stays. */
  void stopPostgres() {
    try {
      postgres.close();
      postgres = null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** PostgreSQL again, on the same port and data directory. */
  void startPostgres() {
    try {
      postgres = EmbeddedStores.startPostgres(pgDir, pgPort, false);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** SIGKILL to the Redis server: no shutdown, clients see their connections reset. */
  void killRedis() {
    ProcessHandle process = redisProcess().orElseThrow(() -> new AssertionError("no live Redis in " + redisDir));
    process.destroyForcibly();
    process.onExit().orTimeout(30, java.util.concurrent.TimeUnit.SECONDS).join();
    try {
      redis.stop(); // reaps the dead process and the library's threads
    } catch (IOException | RuntimeException ignored) {
      // it is dead already, which is all that matters here
    }
    redis = null;
  }

  /** A new Redis with no data (no append-only file, no snapshot) on the same port. */
  void startEmptyRedis() {
    try {
      redis = EmbeddedStores.redisServer(redisDir, redisPort, false);
      redis.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Optional<ProcessHandle> redisProcess() {
    try {
      String pid = Files.readAllLines(redisDir.resolve("redis.pid")).get(0).trim();
      return ProcessHandle.of(Long.parseLong(pid)).filter(ProcessHandle::isAlive);
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  @Override
  public void close() {
    if (redisHa != null) {
      redisHa.close();
      redisHa = null;
    }
    if (objectsProxy != null) {
      objectsProxy.close();
      objectsProxy = null;
    }
    if (objects != null) {
      objects.close();
      objects = null;
    }
    if (redis != null) {
      try {
        redis.stop();
      } catch (IOException | RuntimeException e) {
        redisProcess().ifPresent(ProcessHandle::destroyForcibly);
      }
      redis = null;
    }
    if (postgres != null) {
      try {
        postgres.close();
      } catch (IOException | RuntimeException e) {
        System.err.println("postgres did not stop: " + e);
      }
      postgres = null;
    }
  }
}
