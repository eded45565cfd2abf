package dev.genmesh.region;

import dev.genmesh.config.BreakerConfig;
import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.QueueConfig;
import dev.genmesh.config.RegionConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import redis.embedded.RedisServer;

/**
 * Real PostgreSQL and Redis from their embedded binaries, on free ports, in a temp folder.
 * Start once per test class; give each test its own database and Redis key prefix.
 */
public final class EmbeddedStores implements AutoCloseable {
  public static final String REGION = "us-west";

  private final Path dir;
  private final EmbeddedPostgres postgres;
  private final RedisServer redis;
  private final int redisPort;

  private EmbeddedStores(Path dir, EmbeddedPostgres postgres, RedisServer redis, int redisPort) {
    this.dir = dir;
    this.postgres = postgres;
    this.redis = redis;
    this.redisPort = redisPort;
  }

  public static EmbeddedStores start() throws IOException {
    Path dir = Files.createTempDirectory("genmesh-stores-");
    EmbeddedPostgres postgres = startPostgres(dir.resolve("pg"));
    int port = freePort();
    return new EmbeddedStores(dir, postgres, startRedis(port, dir), port);
  }

  /** A Redis of its own (e.g. to stop it under a running node), without persistence. */
  public static RedisServer startRedis(int port, Path dir) throws IOException {
    RedisServer redis = RedisServer.newRedisServer()
        .port(port)
        .bind("127.0.0.1")
        .setting("save \"\"")
        .setting("appendonly no")
        .setting("dir " + dir)
        .build();
    redis.start();
    return redis;
  }

  /** A PostgreSQL of its own (e.g. to stop it under a running node). */
  public static EmbeddedPostgres startPostgres(Path dataDir) throws IOException {
    Files.createDirectories(dataDir);
    return EmbeddedPostgres.builder()
        .setDataDirectory(dataDir)
        .setCleanDataDirectory(true)
        .setOutputRedirector(ProcessBuilder.Redirect.appendTo(dataDir.resolveSibling(dataDir.getFileName() + ".log").toFile()))
        .setErrorRedirector(ProcessBuilder.Redirect.appendTo(dataDir.resolveSibling(dataDir.getFileName() + ".log").toFile()))
        .start();
  }

  public static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  public Path dir() {
    return dir;
  }

  public int postgresPort() {
    return postgres.getPort();
  }

  public String redisUrl() {
    return "redis://127.0.0.1:" + redisPort;
  }

  /** A fresh, empty database. */
  public String createDatabase() {
    String name = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    try (Connection conn = postgres.getPostgresDatabase().getConnection(); Statement st = conn.createStatement()) {
      st.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create test database", e);
    }
    return name;
  }

  /** A client pool on {@code database} of this PostgreSQL. */
  public io.vertx.sqlclient.Pool pool(io.vertx.core.Vertx vertx, String database) {
    return io.vertx.pgclient.PgBuilder.pool().connectingTo(new io.vertx.pgclient.PgConnectOptions().setHost("127.0.0.1")
        .setPort(postgresPort()).setDatabase(database).setUser("postgres")).using(vertx).build();
  }

  /** A fresh Redis key prefix. */
  public static String newKeyPrefix() {
    return "t" + UUID.randomUUID().toString().substring(0, 8) + ":";
  }

  /** The defaults with region us-west pointed at these stores, HTTP on a random port. */
  public GenmeshConfig config(String database, String keyPrefix) {
    return config(ConfigLoader.defaults(), "127.0.0.1", postgresPort(), database, redisUrl(), keyPrefix);
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
        base.breakers(), base.autoscaling(), base.gpus(), base.routing(), base.dr(), base.registry(), base.safety());
  }

  /** Rows of a query against a test database (blocking; call from the test thread). */
  public List<Map<String, Object>> query(String database, String sql, Object... params) {
    try (Connection conn = postgres.getDatabase("postgres", database).getConnection();
        PreparedStatement st = conn.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        st.setObject(i + 1, params[i]);
      }
      List<Map<String, Object>> rows = new ArrayList<>();
      try (ResultSet rs = st.executeQuery()) {
        ResultSetMetaData meta = rs.getMetaData();
        while (rs.next()) {
          Map<String, Object> row = new LinkedHashMap<>();
          for (int c = 1; c <= meta.getColumnCount(); c++) {
            row.put(meta.getColumnLabel(c).toLowerCase(Locale.ROOT), rs.getObject(c));
          }
          rows.add(row);
        }
      }
      return rows;
    } catch (SQLException e) {
      throw new IllegalStateException("query failed: " + sql, e);
    }
  }

  /** Sends one Redis command (RESP) and answers the raw reply line(s). */
  public String redis(String... command) {
    StringBuilder out = new StringBuilder("*").append(command.length).append("\r\n");
    for (String part : command) {
      out.append('$').append(part.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(part).append("\r\n");
    }
    try (Socket socket = new Socket("127.0.0.1", redisPort)) {
      socket.setSoTimeout(5000);
      OutputStream os = socket.getOutputStream();
      os.write(out.toString().getBytes(StandardCharsets.UTF_8));
      os.flush();
      InputStream in = socket.getInputStream();
      StringBuilder reply = new StringBuilder();
      int b;
      while ((b = in.read()) != -1) {
        reply.append((char) b);
        if (reply.length() >= 2 && reply.charAt(reply.length() - 2) == '\r' && reply.charAt(reply.length() - 1) == '\n'
            && isComplete(reply.toString())) {
          break;
        }
      }
      return reply.toString().strip();
    } catch (IOException e) {
      throw new IllegalStateException("redis command failed: " + String.join(" ", command), e);
    }
  }

  /** Good enough for the simple replies tests read: status, error, integer, one bulk string. */
  private static boolean isComplete(String reply) {
    char type = reply.charAt(0);
    if (type == '+' || type == '-' || type == ':') {
      return true;
    }
    if (type == '$') {
      int len = Integer.parseInt(reply.substring(1, reply.indexOf('\r')));
      return len < 0 || reply.length() >= reply.indexOf('\n') + 1 + len + 2;
    }
    return true;
  }

  @Override
  public void close() throws IOException {
    try {
      redis.stop();
    } finally {
      postgres.close();
      deleteTree(dir);
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var paths = Files.walk(root)) {
      for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
