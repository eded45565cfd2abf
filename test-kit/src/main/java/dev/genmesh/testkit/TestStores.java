package dev.genmesh.testkit;

import dev.genmesh.embedded.EmbeddedObjectStore;
import dev.genmesh.embedded.EmbeddedStores;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import redis.embedded.RedisServer;

/**
 * Real PostgreSQL and Redis from their embedded binaries (through {@link EmbeddedStores}), on
 * free ports, in a temporary folder, without fsync, and the embedded S3-compatible object store
 * ({@link EmbeddedObjectStore}), started on first use. {@link StoresExtension} starts one per JVM;
 * each test takes its own database ({@link #createDatabase()}), Redis key prefix
 * ({@link #newKeyPrefix()}) and bucket ({@link #createBucket()}), so tests never see each other's data.
 */
public final class TestStores implements AutoCloseable {
  private final Path dir;
  private final EmbeddedPostgres postgres;
  private final RedisServer redis;
  private final int redisPort;
  private EmbeddedObjectStore objects;

  private TestStores(Path dir, EmbeddedPostgres postgres, RedisServer redis, int redisPort) {
    this.dir = dir;
    this.postgres = postgres;
    this.redis = redis;
    this.redisPort = redisPort;
  }

  /** Starts both stores in a new temporary folder (the extension does this once per JVM). */
  public static TestStores start() {
    try {
      Path dir = Files.createTempDirectory("genmesh-stores-");
      EmbeddedPostgres postgres = EmbeddedStores.startPostgres(Files.createDirectories(dir.resolve("pg")),
          EmbeddedStores.freePort(), false, dir.resolve("pg.log"));
      int port = EmbeddedStores.freePort();
      RedisServer redis = EmbeddedStores.redisServer(Files.createDirectories(dir.resolve("redis")), port, false);
      redis.start();
      return new TestStores(dir, postgres, redis, port);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Path dir() {
    return dir;
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
  public Pool pool(Vertx vertx, String database) {
    return PgBuilder.pool().connectingTo(new PgConnectOptions().setHost("127.0.0.1")
        .setPort(postgresPort()).setDatabase(database).setUser("postgres")).using(vertx).build();
  }

  /** The object store of this JVM, started on first use (S3Proxy takes a second or two to start). */
  public synchronized EmbeddedObjectStore objectStore() {
    if (objects == null) {
      try {
        objects = EmbeddedObjectStore.start(Files.createDirectories(dir.resolve("s3")), List.of());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return objects;
  }

  /** A fresh, empty bucket in {@link #objectStore()}. */
  public String createBucket() {
    String name = "t-" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    objectStore().createBucket(name);
    return name;
  }

  /**
   * The environment that points genmesh's image store at {@link #objectStore()} and
   * {@code bucket} (every region), as {@code ConfigLoader.load(file, env)} reads it; no copies of
   * images across regions ({@code images.copies.to: none}).
   */
  public Map<String, String> imagesEnv(String bucket) {
    EmbeddedObjectStore store = objectStore();
    return Map.of(
        "GENMESH_IMAGES__ENDPOINT", store.endpoint(),
        "GENMESH_IMAGES__BUCKET", bucket,
        "GENMESH_IMAGES__PATH_STYLE", "true",
        // No copies across regions unless a test asks for them (and makes their buckets).
        "GENMESH_IMAGES__COPIES__TO", "none",
        "GENMESH_S3_ACCESS_KEY", store.credentials().accessKey(),
        "GENMESH_S3_SECRET_KEY", store.credentials().secretKey());
  }

  /** A fresh Redis key prefix. */
  public static String newKeyPrefix() {
    return "t" + UUID.randomUUID().toString().substring(0, 8) + ":";
  }

  /** Rows of a query against a test database (blocking; call from the test thread). */
  public List<Map<String, Object>> query(String database, String sql, Object... params) {
    return JdbcRows.query(postgres.getDatabase("postgres", database), sql, params);
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
    if (type == '$') {
      int len = Integer.parseInt(reply.substring(1, reply.indexOf('\r')));
      return len < 0 || reply.length() >= reply.indexOf('\n') + 1 + len + 2;
    }
    return true;
  }

  @Override
  public void close() throws IOException {
    synchronized (this) {
      if (objects != null) {
        objects.close();
      }
    }
    try {
      redis.stop();
    } finally {
      postgres.close();
      try (var paths = Files.walk(dir)) {
        for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(path);
        }
      }
    }
  }
}
