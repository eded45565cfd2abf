package dev.genmesh.testkit;

import dev.genmesh.embedded.EmbeddedStores;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
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

  /** SIGKILL of the postmaster and every process under it; waits until they are gone. */
  public void kill() {
    long pid = postmasterPid();
    ProcessHandle.of(pid).ifPresent(postmaster -> {
      List<ProcessHandle> all = new ArrayList<>(postmaster.descendants().toList());
      all.add(0, postmaster);
      all.forEach(ProcessHandle::destroyForcibly);
      all.forEach(p -> p.onExit().join());
    });
    try {
      server.close(); // pg_ctl finds nothing to stop; this releases zonky's lock on the directory
    } catch (IOException e) {
      // the server is dead already
    }
    server = null;
  }

  /** Starts the server again on the same data directory and port (crash recovery runs). */
  public void restart() {
    try {
      startServer();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
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
    try (Connection conn = server.getDatabase("postgres", database).getConnection();
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

  @Override
  public void close() throws IOException {
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
