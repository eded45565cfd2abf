package dev.genmesh.region.requests.impl;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the versioned SQL files of {@code dev/genmesh/region/db/migration/} in order, each
 * recorded in {@code schema_migrations}. Everything runs in one transaction behind an advisory
 * lock, so two nodes starting at once apply each version exactly once.
 */
public final class Migrations {
  static final String FOLDER = "/dev/genmesh/region/db/migration/";
  /** Arbitrary, fixed key of the advisory lock (per database). */
  static final long LOCK_KEY = 0x67656e6d657368L; // "genmesh"
  private static final Pattern NAME = Pattern.compile("V(\\d+)__([A-Za-z0-9_]+)\\.sql");
  private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);

  /** One migration file. */
  public record Migration(int version, String name, String sql) {}

  private final WorkerExecutor io;
  private final Pool pool;

  /** @param io where the migration files are read (blocking), not the event loop */
  public Migrations(WorkerExecutor io, Pool pool) {
    this.io = io;
    this.pool = pool;
  }

  /** Applies what is missing; answers the versions applied by this call. */
  public Future<List<Integer>> apply() {
    return io.executeBlocking(Migrations::load)
        .compose(migrations -> pool.withTransaction(conn -> applyLocked(conn, migrations)));
  }

  private Future<List<Integer>> applyLocked(SqlConnection conn, List<Migration> migrations) {
    return conn.preparedQuery("SELECT pg_advisory_xact_lock($1)").execute(Tuple.of(LOCK_KEY))
        // Quiet the "already exists, skipping" notice of every restart.
        .compose(v -> conn.query("SET LOCAL client_min_messages = warning").execute())
        .compose(v -> conn.query("CREATE TABLE IF NOT EXISTS schema_migrations ("
            + "version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())").execute())
        .compose(v -> conn.query("SELECT version FROM schema_migrations").execute())
        .compose(rows -> {
          Set<Integer> done = new HashSet<>();
          for (Row row : rows) {
            done.add(row.getInteger("version"));
          }
          Future<List<Integer>> chain = Future.succeededFuture(new ArrayList<>());
          for (Migration migration : migrations) {
            if (!done.contains(migration.version())) {
              chain = chain.compose(applied -> applyOne(conn, migration).map(v -> {
                applied.add(migration.version());
                return applied;
              }));
            }
          }
          return chain;
        });
  }

  private Future<Void> applyOne(SqlConnection conn, Migration migration) {
    LOG.info("applying migration V{}__{}", migration.version(), migration.name());
    // Simple-query protocol: a file may hold several statements.
    return conn.query(migration.sql()).execute()
        .compose(v -> conn.preparedQuery("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
            .execute(Tuple.of(migration.version(), migration.name())))
        .recover(err -> Future.failedFuture(new IllegalStateException(
            "migration V" + migration.version() + "__" + migration.name() + " failed: " + err.getMessage(), err)))
        .mapEmpty();
  }

  /** Reads the migrations listed in the folder's INDEX file, checked for increasing versions. */
  public static List<Migration> load() {
    List<Migration> migrations = new ArrayList<>();
    for (String line : read("INDEX").split("\n")) {
      String file = line.strip();
      if (file.isEmpty() || file.startsWith("#")) {
        continue;
      }
      Matcher matcher = NAME.matcher(file);
      if (!matcher.matches()) {
        throw new IllegalStateException("migration file name must look like V<n>__<name>.sql: " + file);
      }
      int version = Integer.parseInt(matcher.group(1));
      // Gaps are allowed (concurrent changes reserve their own numbers); going backwards is not.
      int previous = migrations.isEmpty() ? 0 : migrations.get(migrations.size() - 1).version();
      if (version <= previous) {
        throw new IllegalStateException("migration " + file + " out of order: versions must increase, after V" + previous);
      }
      migrations.add(new Migration(version, matcher.group(2), read(file)));
    }
    return migrations;
  }

  private static String read(String file) {
    try (InputStream in = Migrations.class.getResourceAsStream(FOLDER + file)) {
      if (in == null) {
        throw new IllegalStateException("migration resource missing: " + FOLDER + file);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read migration " + FOLDER + file, e);
    }
  }
}
