package dev.genmesh.testkit;

import dev.genmesh.embedded.EmbeddedStores;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * One region's own PostgreSQL server for replication tests: {@code wal_level=logical}, a database
 * for the region, in a temporary folder on a fixed free port, which a test can SIGKILL (the
 * postmaster and its children, as a crash would) and start again on the same data and port.
 */
public final class RegionPostgres implements AutoCloseable {
  private final Path dir;
  private final int port;
  private final String database;
  private EmbeddedPostgres server;
  private EmbeddedPostgres dead;

  private RegionPostgres(Path dir, int port, String database) {
    this.dir = dir;
    this.port = port;
    this.database = database;
  }

  /** Starts a server holding an empty database {@code database}. */
  public static RegionPostgres start(String database) {
    try {
      RegionPostgres pg = new RegionPostgres(Files.createTempDirectory("genmesh-region-pg-"), EmbeddedStores.freePort(),
          database);
      pg.startServer();
      EmbeddedStores.createDatabases(pg.server, List.of(database));
      return pg;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void startServer() throws IOException {
    server = EmbeddedStores.startPostgres(Files.createDirectories(dir.resolve("pg")), port, false, dir.resolve("pg.log"),
        true);
  }

  public int port() {
    return port;
  }

  public String database() {
    return database;
  }

  /** SIGKILL of the postmaster and every process under it; returns once they are gone. */
  public void kill() {
    long pid = postmasterPid();
    ProcessHandle.of(pid).ifPresent(postmaster -> {
      List<ProcessHandle> all = new ArrayList<>(postmaster.descendants().toList());
      all.add(0, postmaster);
      all.forEach(ProcessHandle::destroyForcibly);
      all.forEach(p -> p.onExit().join());
    });
    dead = server;
    server = null;
  }

  /** Starts the server again on the same data directory and port (crash recovery runs). */
  public void restart() {
    try {
      releaseDead();
      startServer();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** zonky's handle of a killed server: closing it finds nothing to stop and releases its lock on the directory. */
  private void releaseDead() throws IOException {
    if (dead != null) {
      EmbeddedPostgres closing = dead;
      dead = null;
      closing.close();
    }
  }

  /** The last {@code lines} lines of the server's own log (for a failing test's message). */
  public String logTail(int lines) {
    try {
      List<String> all = Files.readAllLines(dir.resolve("pg.log"));
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  public boolean running() {
    return server != null;
  }

  private long postmasterPid() {
    try {
      return Long.parseLong(Files.readAllLines(dir.resolve("pg").resolve("postmaster.pid")).get(0).strip());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Rows of a query against the region's database (blocking; from the test thread). */
  public List<Map<String, Object>> query(String sql, Object... params) {
    return JdbcRows.query(server.getDatabase("postgres", database), sql, params);
  }

  /** Runs a statement that returns no rows, such as {@code ALTER SYSTEM} (blocking; from the test thread). */
  public void execute(String sql) {
    JdbcRows.execute(server.getDatabase("postgres", database), sql);
  }

  @Override
  public void close() throws IOException {
    releaseDead();
    if (server != null) {
      server.close();
      server = null;
    }
    try (var paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
