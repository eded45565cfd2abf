package dev.genmesh.users.impl;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The user database's migrations ({@code dev/genmesh/users/db/V<n>__<name>.sql}, listed in
 * {@link #VERSIONS}), each applied once and recorded in {@code user_schema}, in one transaction
 * behind an advisory lock so that edges starting together apply each once.
 */
final class UserSchema {
  private static final Logger LOG = LoggerFactory.getLogger(UserSchema.class);
  private static final String FOLDER = "/dev/genmesh/users/db/";
  /** The migrations in order; add new ones at the end. */
  static final List<String> VERSIONS = List.of("V1__users.sql", "V2__gpu_usage.sql");
  /** Fixed key of the advisory lock: "gmusers". */
  private static final long LOCK_KEY = 0x676d7573657273L;

  private UserSchema() {}

  /** Reads the files on the calling thread (the launcher's, at start-up), not on an event loop. */
  static Future<Void> apply(Pool primary) {
    Map<String, String> sql = new LinkedHashMap<>();
    VERSIONS.forEach(file -> sql.put(file, read(file)));
    return primary.withTransaction(conn -> conn.preparedQuery("SELECT pg_advisory_xact_lock($1)").execute(Tuple.of(LOCK_KEY))
        .compose(v -> conn.query("SET LOCAL client_min_messages = warning").execute())
        .compose(v -> conn.query("CREATE TABLE IF NOT EXISTS user_schema (file text PRIMARY KEY,"
            + " applied_at timestamptz NOT NULL DEFAULT now())").execute())
        .compose(v -> conn.query("SELECT file FROM user_schema").execute())
        .compose(rows -> {
          Set<String> applied = new HashSet<>();
          for (Row row : rows) {
            applied.add(row.getString("file"));
          }
          Future<Void> chain = Future.succeededFuture();
          for (String file : VERSIONS) {
            if (!applied.contains(file)) {
              chain = chain.compose(v -> applyOne(conn, file, sql.get(file)));
            }
          }
          return chain;
        }));
  }

  private static Future<Void> applyOne(SqlConnection conn, String file, String sql) {
    LOG.info("user database: applying {}", file);
    return conn.query(sql).execute()
        .compose(v -> conn.preparedQuery("INSERT INTO user_schema (file) VALUES ($1)").execute(Tuple.of(file)))
        .mapEmpty();
  }

  private static String read(String file) {
    try (InputStream in = UserSchema.class.getResourceAsStream(FOLDER + file)) {
      if (in == null) {
        throw new IllegalStateException("user database migration missing: " + FOLDER + file);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
