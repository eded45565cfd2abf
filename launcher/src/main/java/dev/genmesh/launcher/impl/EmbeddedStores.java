package dev.genmesh.launcher.impl;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.RedisServer;

/**
 * The embedded PostgreSQL and Redis of {@code genmesh up}, with their data kept under one
 * directory so that what the mesh acknowledged survives a restart. PostgreSQL runs with
 * {@code fsync} and {@code synchronous_commit} on, Redis with an fsync-every-second
 * append-only file.
 */
public final class EmbeddedStores implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedStores.class);

  private final EmbeddedPostgres postgres;
  private final RedisServer redis;
  private final int redisPort;

  private EmbeddedStores(EmbeddedPostgres postgres, RedisServer redis, int redisPort) {
    this.postgres = postgres;
    this.redis = redis;
    this.redisPort = redisPort;
  }

  /**
   * Starts both stores under {@code dataDir} and creates {@code databases} if missing.
   *
   * @param durable fsync on (the all-in-one mode); tests pass false for speed
   */
  public static EmbeddedStores start(Path dataDir, Collection<String> databases, boolean durable) {
    EmbeddedPostgres pg = null;
    try {
      Path pgDir = Files.createDirectories(dataDir.resolve("postgres"));
      Path redisDir = Files.createDirectories(dataDir.resolve("redis"));
      pg = EmbeddedPostgres.builder()
          .setDataDirectory(pgDir)
          .setCleanDataDirectory(false)
          .setPort(freePort())
          .setServerConfig("fsync", durable ? "on" : "off")
          .setServerConfig("synchronous_commit", durable ? "on" : "off")
          .setServerConfig("full_page_writes", durable ? "on" : "off")
          .setServerConfig("max_connections", "300")
          .setRegisterShutdownHook(false)
          .start();
      createDatabases(pg, databases);
      int port = freePort();
      RedisServer redisServer = RedisServer.newRedisServer()
          .bind("127.0.0.1")
          .port(port)
          .setting("dir " + redisDir.toAbsolutePath())
          .setting("appendonly " + (durable ? "yes" : "no"))
          .setting("appendfsync everysec")
          .setting("save \"\"")
          .onShutdownForceStop(false)
          .build();
      redisServer.start();
      LOG.info("embedded stores up: postgres on 127.0.0.1:{}, redis on 127.0.0.1:{}, data in {}", pg.getPort(), port, dataDir);
      return new EmbeddedStores(pg, redisServer, port);
    } catch (IOException | RuntimeException e) {
      closeQuietly(pg);
      throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
    }
  }

  public int postgresPort() {
    return postgres.getPort();
  }

  public int redisPort() {
    return redisPort;
  }

  public String redisUrl() {
    return "redis://127.0.0.1:" + redisPort;
  }

  public RedisServer redisServer() {
    return redis;
  }

  private static void createDatabases(EmbeddedPostgres pg, Collection<String> databases) {
    try (Connection connection = pg.getPostgresDatabase().getConnection(); Statement statement = connection.createStatement()) {
      for (String database : databases) {
        if (!database.matches("[a-z_][a-z0-9_]*")) {
          throw new IllegalArgumentException("database name must be a plain lowercase identifier: " + database);
        }
        try (ResultSet rows = statement.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + database + "'")) {
          if (rows.next()) {
            continue;
          }
        }
        statement.execute("CREATE DATABASE " + database);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create the region databases: " + e.getMessage(), e);
    }
  }

  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      redis.stop();
    } catch (IOException | RuntimeException e) {
      LOG.warn("redis did not stop cleanly: {}", e.toString());
    }
    closeQuietly(postgres);
  }

  private static void closeQuietly(EmbeddedPostgres pg) {
    if (pg == null) {
      return;
    }
    try {
      pg.close();
    } catch (IOException | RuntimeException e) {
      LOG.warn("postgres did not stop cleanly: {}", e.toString());
    }
  }
}
