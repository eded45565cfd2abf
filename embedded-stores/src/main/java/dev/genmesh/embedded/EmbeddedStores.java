package dev.genmesh.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.RedisServer;

/**
 * The embedded PostgreSQL, Redis and S3-compatible object store of {@code genmesh up} (and the
 * one starter the tests and benchmarks use), with their data kept under one directory so that
 * what the mesh acknowledged survives a restart. PostgreSQL runs with {@code fsync} and
 * {@code synchronous_commit} on, Redis with an append-only file fsynced on every write and an RDB
 * snapshot every 5 minutes (a replica and a sentinel: {@link EmbeddedRedisHa}); the object
 * store ({@link EmbeddedObjectStore}, in this JVM) keeps its objects under {@code <dataDir>/s3}.
 */
public final class EmbeddedStores implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedStores.class);

  /** The object store's folder under the data directory. */
  public static final String OBJECTS_DIR = "s3";

  private final FileLock dataDirLock;
  private final EmbeddedPostgres postgres;
  /** Region → its own server ({@link #startRegional}); empty when every region shares {@link #postgres}. */
  private final java.util.Map<String, EmbeddedPostgres> regional;
  private final RedisServer redis;
  private final int redisPort;
  private final EmbeddedObjectStore objects;

  private EmbeddedStores(FileLock dataDirLock, EmbeddedPostgres postgres, RedisServer redis, int redisPort,
      EmbeddedObjectStore objects) {
    this(dataDirLock, postgres, java.util.Map.of(), redis, redisPort, objects);
  }

  private EmbeddedStores(FileLock dataDirLock, EmbeddedPostgres postgres, java.util.Map<String, EmbeddedPostgres> regional,
      RedisServer redis, int redisPort, EmbeddedObjectStore objects) {
    this.dataDirLock = dataDirLock;
    this.regional = regional;
    this.postgres = postgres;
    this.redis = redis;
    this.redisPort = redisPort;
    this.objects = objects;
  }

  /**
   * Starts both stores under {@code dataDir} and creates {@code databases} if missing. Stores
   * that an earlier run of the same directory left running (its JVM was killed) are stopped
   * first; see {@link StaleStoreProcesses}. A directory that a live process uses is refused.
   *
   * @param durable fsync on (the all-in-one mode); tests pass false for speed
   */
  public static EmbeddedStores start(Path dataDir, Collection<String> databases, boolean durable) {
    return start(dataDir, databases, List.of(), durable);
  }

  /**
   * As above, and creates each of {@code buckets} in the object store if missing.
   *
   * @param durable fsync on in PostgreSQL and Redis (the all-in-one mode); tests pass false for speed
   */
  public static EmbeddedStores start(Path dataDir, Collection<String> databases, Collection<String> buckets,
      boolean durable) {
    return start(dataDir, databases, buckets, durable, Map.of());
  }

  /** As above, with more PostgreSQL server settings (e.g. {@link WalArchive#serverSettings}). */
  public static EmbeddedStores start(Path dataDir, Collection<String> databases, Collection<String> buckets,
      boolean durable, Map<String, String> postgresSettings) {
    FileLock lock = null;
    EmbeddedPostgres pg = null;
    EmbeddedObjectStore objects = null;
    try {
      Path pgDir = Files.createDirectories(dataDir.resolve("postgres"));
      Path redisDir = Files.createDirectories(dataDir.resolve("redis"));
      lock = DataDirLock.lock(dataDir);
      StaleStoreProcesses.stop(dataDir);
      pg = startPostgres(pgDir, freePort(), durable, null, postgresSettings);
      createDatabases(pg, databases);
      objects = EmbeddedObjectStore.start(Files.createDirectories(dataDir.resolve(OBJECTS_DIR)), buckets);
      int port = freePort();
      RedisServer redisServer = redisServer(redisDir, port, durable);
      redisServer.start();
      LOG.info("embedded stores up: postgres on 127.0.0.1:{}, redis on 127.0.0.1:{}, object store on {}, data in {}",
          pg.getPort(), port, objects.endpoint(), dataDir);
      return new EmbeddedStores(lock, pg, redisServer, port, objects);
    } catch (IOException | RuntimeException e) {
      if (objects != null) {
        objects.close();
      }
      closeQuietly(pg);
      DataDirLock.release(lock);
      throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
    }
  }

  /**
   * As {@link #start}, but each region gets its own PostgreSQL server ({@code <dataDir>/postgres-<region>},
   * {@code wal_level=logical}), so that each region's request log can be replicated to its peer's
   * server as between real regions; Redis and the object store are shared as before.
   *
   * @param databases region → the database its server holds
   */
  public static EmbeddedStores startRegional(Path dataDir, java.util.Map<String, String> databases,
      Collection<String> buckets, boolean durable) {
    return startRegional(dataDir, databases, buckets, durable, region -> Map.of());
  }

  /** As above, with more server settings for each region's server (e.g. its {@link WalArchive}'s). */
  public static EmbeddedStores startRegional(Path dataDir, java.util.Map<String, String> databases,
      Collection<String> buckets, boolean durable, java.util.function.Function<String, Map<String, String>> settingsOf) {
    return startRegional(dataDir, databases, buckets, durable, settingsOf, true);
  }

  /**
   * Only each region's own PostgreSQL server, as {@link #startRegional}: no shared Redis and no shared object store
   * ({@code genmesh up --region-processes}, where each region has its own). {@link #redisPort()}, {@link #redisUrl()},
   * {@link #redisServer()} and {@link #objectStore()} then fail.
   */
  public static EmbeddedStores startRegionalPostgres(Path dataDir, java.util.Map<String, String> databases,
      boolean durable, java.util.function.Function<String, Map<String, String>> settingsOf) {
    return startRegional(dataDir, databases, List.of(), durable, settingsOf, false);
  }

  private static EmbeddedStores startRegional(Path dataDir, java.util.Map<String, String> databases,
      Collection<String> buckets, boolean durable, java.util.function.Function<String, Map<String, String>> settingsOf,
      boolean shared) {
    FileLock lock = null;
    java.util.Map<String, EmbeddedPostgres> servers = new java.util.LinkedHashMap<>();
    EmbeddedObjectStore objects = null;
    try {
      Files.createDirectories(dataDir);
      lock = DataDirLock.lock(dataDir);
      StaleStoreProcesses.stop(dataDir);
      SharedServerSplit.split(dataDir, databases.keySet());
      for (java.util.Map.Entry<String, String> region : databases.entrySet()) {
        Path pgDir = Files.createDirectories(dataDir.resolve("postgres-" + region.getKey()));
        EmbeddedPostgres pg = startPostgres(pgDir, freePort(), durable, null, true, settingsOf.apply(region.getKey()));
        servers.put(region.getKey(), pg);
        createDatabases(pg, List.of(region.getValue()));
      }
      StringBuilder ports = new StringBuilder();
      servers.forEach((region, pg) -> ports.append(ports.length() == 0 ? "" : ", ").append(region).append(" on 127.0.0.1:")
          .append(pg.getPort()));
      EmbeddedPostgres first = servers.values().iterator().next();
      if (!shared) {
        LOG.info("embedded stores up: postgres per region ({}), no shared redis or object store, data in {}", ports,
            dataDir);
        return new EmbeddedStores(lock, first, java.util.Collections.synchronizedMap(servers), null, 0, null);
      }
      objects = EmbeddedObjectStore.start(Files.createDirectories(dataDir.resolve(OBJECTS_DIR)), buckets);
      int port = freePort();
      RedisServer redisServer = redisServer(Files.createDirectories(dataDir.resolve("redis")), port, durable);
      redisServer.start();
      LOG.info("embedded stores up: postgres per region ({}), redis on 127.0.0.1:{}, object store on {}, data in {}",
          ports, port, objects.endpoint(), dataDir);
      return new EmbeddedStores(lock, first, java.util.Collections.synchronizedMap(servers), redisServer, port, objects);
    } catch (IOException | RuntimeException e) {
      if (objects != null) {
        objects.close();
      }
      servers.values().forEach(EmbeddedStores::closeQuietly);
      DataDirLock.release(lock);
      throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
    }
  }

  /** PostgreSQL on {@code port} with its data in {@code pgDir} (kept, and reused when it holds a cluster). */
  public static EmbeddedPostgres startPostgres(Path pgDir, int port, boolean durable) throws IOException {
    return startPostgres(pgDir, port, durable, null);
  }

  /** The same, with the server's own output appended to {@code logFile} (null: to this JVM's log). */
  public static EmbeddedPostgres startPostgres(Path pgDir, int port, boolean durable, Path logFile) throws IOException {
    return startPostgres(pgDir, port, durable, logFile, false);
  }

  /** The same, with more server settings on its command line (they win over the ones above). */
  public static EmbeddedPostgres startPostgres(Path pgDir, int port, boolean durable, Path logFile,
      Map<String, String> settings) throws IOException {
    return startPostgres(pgDir, port, durable, logFile, false, settings);
  }

  /**
   * The same; {@code logical}: with {@code wal_level=logical} and room for replication slots and
   * senders, so that the region's request log can be published to its peer region's server.
   */
  public static EmbeddedPostgres startPostgres(Path pgDir, int port, boolean durable, Path logFile, boolean logical)
      throws IOException {
    return startPostgres(pgDir, port, durable, logFile, logical, Map.of());
  }

  /** Both: logical WAL and more server settings (e.g. {@link WalArchive#serverSettings}). */
  public static EmbeddedPostgres startPostgres(Path pgDir, int port, boolean durable, Path logFile, boolean logical,
      Map<String, String> settings) throws IOException {
    EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
        .setDataDirectory(pgDir)
        .setCleanDataDirectory(false)
        .setPort(port)
        .setServerConfig("fsync", durable ? "on" : "off")
        .setServerConfig("synchronous_commit", durable ? "on" : "off")
        .setServerConfig("full_page_writes", durable ? "on" : "off")
        .setServerConfig("max_connections", "300")
        .setRegisterShutdownHook(false);
    if (logical) {
      builder.setServerConfig("wal_level", "logical")
          .setServerConfig("max_replication_slots", "10")
          .setServerConfig("max_wal_senders", "10")
          // A peer whose link dies without a reset is noticed in seconds, not the default minute.
          .setServerConfig("wal_sender_timeout", "10s")
          .setServerConfig("wal_receiver_timeout", "10s");
    }
    settings.forEach(builder::setServerConfig);
    if (logFile != null) {
      builder.setOutputRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
          .setErrorRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    }
    return builder.start();
  }

  /**
   * A Redis server (not started) on {@code port} that works in {@code redisDir}: its
   * append-only file when durable, and always its pid file, by which a later start finds it
   * if this JVM dies.
   */
  public static RedisServer redisServer(Path redisDir, int port, boolean durable) throws IOException {
    return redisServer(redisDir, port, durable, null);
  }

  /**
   * As {@link #redisServer(Path, int, boolean)}, with one more setting line (e.g. {@code replicaof
   * host port}) when not null. Durable: the append-only file is fsynced on every write
   * ({@code appendfsync always}, the design's setting) and an RDB snapshot is taken every 5 minutes
   * when anything changed.
   */
  public static RedisServer redisServer(Path redisDir, int port, boolean durable, String extraSetting) throws IOException {
    var builder = RedisServer.newRedisServer()
        .bind("127.0.0.1")
        .port(port)
        .setting("dir " + quoted(redisDir.toAbsolutePath()))
        .setting("pidfile " + quoted(redisPidFile(redisDir).toAbsolutePath()))
        .setting("appendonly " + (durable ? "yes" : "no"))
        .setting("appendfsync " + (durable ? "always" : "everysec"))
        .setting(durable ? "save 300 1" : "save \"\"");
    if (extraSetting != null) {
      builder.setting(extraSetting);
    }
    return builder.onShutdownForceStop(false).build();
  }

  public static Path redisPidFile(Path redisDir) {
    return redisDir.resolve("redis.pid");
  }

  static String quoted(Path path) {
    return "\"" + path.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  public int postgresPort() {
    return postgres.getPort();
  }

  /** The port of {@code region}'s own server ({@link #startRegional}), else the shared one's. */
  public int postgresPort(String region) {
    EmbeddedPostgres own = regional.get(region);
    return own == null ? postgres.getPort() : own.getPort();
  }

  /**
   * Starts {@code region}'s own server ({@link #startRegional}) again on its data and port after it was killed
   * ({@code genmesh up --region-processes}), under {@code dataDir} as {@link #startRegional} put it: the dead one is
   * released first (its lock on the data directory; the
   * driver logs that it could not stop it), then the new one recovers from the crash.
   */
  public void restartPostgres(Path dataDir, String region, boolean durable, Path logFile, Map<String, String> settings)
      throws IOException {
    EmbeddedPostgres dead = regional.get(region);
    if (dead == null) {
      throw new IllegalArgumentException("no server of its own for region " + region);
    }
    closeQuietly(dead);
    regional.put(region, startPostgres(dataDir.resolve("postgres-" + region), dead.getPort(), durable, logFile, true,
        settings));
  }

  /** Creates each of {@code databases} that is missing in {@code region}'s own server (else the shared one). */
  public void createDatabases(String region, Collection<String> databases) {
    createDatabases(regional.getOrDefault(region, postgres), databases);
  }

  public int redisPort() {
    return shared(redisPort);
  }

  public String redisUrl() {
    return "redis://127.0.0.1:" + redisPort();
  }

  public RedisServer redisServer() {
    return shared(redis);
  }

  /** The S3-compatible object store (endpoint, keys, buckets). */
  public EmbeddedObjectStore objectStore() {
    return shared(objects);
  }

  private <T> T shared(T part) {
    if (redis == null) {
      throw new IllegalStateException("no shared Redis or object store runs here (startRegionalPostgres)");
    }
    return part;
  }

  /** Creates each of {@code databases} that does not exist yet. */
  public static void createDatabases(EmbeddedPostgres pg, Collection<String> databases) {
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
    if (objects != null) {
      objects.close();
    }
    try {
      if (redis != null) {
        redis.stop();
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("redis did not stop cleanly: {}", e.toString());
    }
    if (regional.isEmpty()) {
      closeQuietly(postgres);
    } else {
      regional.values().forEach(EmbeddedStores::closeQuietly);
    }
    DataDirLock.release(dataDirLock);
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
