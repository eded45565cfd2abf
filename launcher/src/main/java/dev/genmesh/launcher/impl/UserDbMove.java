package dev.genmesh.launcher.impl;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An earlier {@code genmesh up} kept {@code genmesh_users} in the primary region's own server; it now
 * lives on servers of its own (a primary and standbys). On the first start of the new layout the
 * rows move over once ({@code COPY}, table by table, after the migrations made the tables), and
 * the old database is renamed {@code genmesh_users_moved}, kept until the operator drops it.
 */
public final class UserDbMove {
  private static final Logger LOG = LoggerFactory.getLogger(UserDbMove.class);
  /** Parents before children (api_keys refers to users). */
  private static final List<String> TABLES = List.of("users", "api_keys", "generations");

  private UserDbMove() {}

  /** Moves the rows when {@code oldPort}'s server holds the old database and the new primary holds no account yet. */
  public static void moveIfNeeded(int oldPort, int newPrimaryPort) {
    try (Connection old = connect(oldPort, "postgres")) {
      if (!exists(old, "SELECT 1 FROM pg_database WHERE datname = '" + LocalUsers.DATABASE + "'")) {
        return;
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot look for an earlier user database: " + e.getMessage(), e);
    }
    try (Connection from = connect(oldPort, LocalUsers.DATABASE);
        Connection to = connect(newPrimaryPort, LocalUsers.DATABASE)) {
      if (exists(to, "SELECT 1 FROM users") || !exists(from, "SELECT 1 FROM pg_tables WHERE tablename = 'users'")) {
        return;
      }
      LOG.warn("moving the user database of an earlier version (in the region's server) to its own servers");
      to.setAutoCommit(false);
      CopyManager out = new CopyManager(from.unwrap(BaseConnection.class));
      CopyManager in = new CopyManager(to.unwrap(BaseConnection.class));
      for (String table : TABLES) {
        ByteArrayOutputStream rows = new ByteArrayOutputStream();
        out.copyOut("COPY " + table + " TO STDOUT (FORMAT binary)", rows);
        in.copyIn("COPY " + table + " FROM STDIN (FORMAT binary)", new ByteArrayInputStream(rows.toByteArray()));
      }
      to.commit();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot move the earlier user database: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try (Connection old = connect(oldPort, "postgres"); Statement statement = old.createStatement()) {
      statement.execute("ALTER DATABASE " + LocalUsers.DATABASE + " RENAME TO " + LocalUsers.DATABASE + "_moved");
    } catch (SQLException e) {
      throw new IllegalStateException("moved the user database, but cannot rename the old one: " + e.getMessage(), e);
    }
  }

  private static boolean exists(Connection conn, String sql) throws SQLException {
    try (Statement statement = conn.createStatement(); ResultSet rows = statement.executeQuery(sql)) {
      return rows.next();
    }
  }

  private static Connection connect(int port, String database) throws SQLException {
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, "postgres", "");
  }
}
