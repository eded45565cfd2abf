package dev.genmesh.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.RedisSentinel;
import redis.embedded.RedisServer;

/**
 * A replica of an embedded Redis and a Redis Sentinel watching the pair (the embedded binary in
 * sentinel mode), so that the queue's Redis survives the loss of its master: the sentinel promotes
 * the replica after {@code downAfterMs} and clients that ask it for {@link #MASTER_NAME} reach the
 * new master. One sentinel with quorum 1 is enough on one machine (what fails here is a process,
 * not a host); production runs three or more on separate hosts (docs/architecture.md,
 * "The queue's Redis"). Data under {@code <dir>/redis-replica} and {@code <dir>/redis-sentinel}.
 */
public final class EmbeddedRedisHa implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedRedisHa.class);
  /** The name the sentinels know the master by. */
  public static final String MASTER_NAME = "genmesh";
  public static final String REPLICA_DIR = "redis-replica";
  static final String SENTINEL_DIR = "redis-sentinel";

  private final RedisServer replica;
  private final int replicaPort;
  private final RedisSentinel sentinel;
  private final int sentinelPort;

  private EmbeddedRedisHa(RedisServer replica, int replicaPort, RedisSentinel sentinel, int sentinelPort) {
    this.replica = replica;
    this.replicaPort = replicaPort;
    this.sentinel = sentinel;
    this.sentinelPort = sentinelPort;
  }

  /**
   * Starts a replica of the Redis on {@code masterPort} and a sentinel over both, on free ports.
   * The sentinel's configuration is written anew at every start (a sentinel rewrites it as it
   * learns; a restart begins from the configured master again).
   *
   * @param durable the replica's append-only file fsyncs on every write, like the master's
   * @param downAfterMs how long the master must not answer before the sentinel fails over
   */
  public static EmbeddedRedisHa start(Path dir, int masterPort, boolean durable, long downAfterMs) {
    RedisServer replica = null;
    try {
      Path replicaDir = Files.createDirectories(dir.resolve(REPLICA_DIR));
      int replicaPort = EmbeddedStores.freePort();
      replica = EmbeddedStores.redisServer(replicaDir, replicaPort, durable, "replicaof 127.0.0.1 " + masterPort);
      replica.start();
      Path sentinelDir = Files.createDirectories(dir.resolve(SENTINEL_DIR));
      int sentinelPort = EmbeddedStores.freePort();
      Path conf = Files.writeString(sentinelDir.resolve("sentinel.conf"), String.join("\n",
          "port " + sentinelPort,
          "bind 127.0.0.1",
          "dir " + EmbeddedStores.quoted(sentinelDir.toAbsolutePath()),
          "pidfile " + EmbeddedStores.quoted(EmbeddedStores.redisPidFile(sentinelDir).toAbsolutePath()),
          "sentinel monitor " + MASTER_NAME + " 127.0.0.1 " + masterPort + " 1",
          "sentinel down-after-milliseconds " + MASTER_NAME + " " + downAfterMs,
          "sentinel failover-timeout " + MASTER_NAME + " " + Math.max(3_000, 3 * downAfterMs),
          "sentinel parallel-syncs " + MASTER_NAME + " 1",
          ""));
      RedisSentinel sentinel = RedisSentinel.newRedisSentinel().configFile(conf.toString()).port(sentinelPort)
          .onShutdownForceStop(false).build();
      sentinel.start();
      LOG.info("embedded Redis replica on 127.0.0.1:{} and sentinel on 127.0.0.1:{} (master '{}' on port {})",
          replicaPort, sentinelPort, MASTER_NAME, masterPort);
      return new EmbeddedRedisHa(replica, replicaPort, sentinel, sentinelPort);
    } catch (IOException | RuntimeException e) {
      stopQuietly(replica);
      throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
    }
  }

  public int replicaPort() {
    return replicaPort;
  }

  public int sentinelPort() {
    return sentinelPort;
  }

  /** The sentinels to give a client ({@code redis://127.0.0.1:<port>}). */
  public List<String> sentinelUrls() {
    return List.of("redis://127.0.0.1:" + sentinelPort);
  }

  @Override
  public void close() {
    try {
      sentinel.stop();
    } catch (IOException | RuntimeException e) {
      LOG.warn("redis sentinel did not stop cleanly: {}", e.toString());
    }
    stopQuietly(replica);
  }

  private static void stopQuietly(RedisServer server) {
    if (server == null) {
      return;
    }
    try {
      server.stop();
    } catch (IOException | RuntimeException e) {
      LOG.warn("redis replica did not stop cleanly: {}", e.toString());
    }
  }
}
