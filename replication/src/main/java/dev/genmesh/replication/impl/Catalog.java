package dev.genmesh.replication.impl;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The SQL of logical replication, on the publishing side (a region's own tables) and on the
 * subscribing side (its peer's database). Every step checks the catalog first, so that each is
 * idempotent and a node restart (of either side) repeats it harmlessly. Names are generated from
 * region names ({@code RegionSchemas}), never from user input.
 */
public final class Catalog {
  private Catalog() {}

  /**
   * The peer's walsender as PostgreSQL sees it: its state and how far behind it confirmed; and how
   * many tables the publication of the same name holds now.
   */
  public record Stream(String state, long lagBytes, long lagMs, int published) {
    public boolean streaming() {
      return "streaming".equals(state);
    }
  }

  public static Future<String> walLevel(Pool pool) {
    return pool.query("SHOW wal_level").execute().map(rows -> rows.iterator().next().getString(0));
  }

  /** Creates the publication of {@code schema.tables}, or adds the tables it lacks. */
  public static Future<Void> ensurePublication(Pool pool, String name, String schema, List<String> tables) {
    return pool.preparedQuery("SELECT tablename FROM pg_publication_tables WHERE pubname = $1 AND schemaname = $2")
        .execute(Tuple.of(name, schema))
        .compose(published -> pool.preparedQuery("SELECT 1 FROM pg_publication WHERE pubname = $1").execute(Tuple.of(name))
            .compose(exists -> {
              Set<String> have = new HashSet<>();
              published.forEach(row -> have.add(row.getString(0)));
              List<String> missing = tables.stream().filter(t -> !have.contains(t)).map(t -> schema + "." + t).toList();
              if (exists.size() == 0) {
                return pool.query("CREATE PUBLICATION " + name + " FOR TABLE " + String.join(", ", missing)).execute();
              }
              if (missing.isEmpty()) {
                return Future.succeededFuture();
              }
              return pool.query("ALTER PUBLICATION " + name + " ADD TABLE " + String.join(", ", missing)).execute();
            }))
        .mapEmpty();
  }

  /** Sets {@code synchronous_standby_names} of the whole server (ALTER SYSTEM and a reload) when it differs. */
  public static Future<Void> synchronousStandbys(Pool pool, String names) {
    return pool.query("SELECT current_setting('synchronous_standby_names')").execute().compose(rows -> {
      String current = rows.iterator().next().getString(0);
      if (names.equals(current)) {
        return Future.succeededFuture();
      }
      return pool.query("ALTER SYSTEM SET synchronous_standby_names = '" + names + "'").execute()
          .compose(v -> pool.query("SELECT pg_reload_conf()").execute())
          .mapEmpty();
    });
  }

  /**
   * The peer's slot and, if connected, its walsender: the lag is measured from the slot's confirmed
   * position, so it keeps growing while the peer is away (empty: no slot yet).
   */
  public static Future<Optional<Stream>> stream(Pool pool, String slot) {
    return pool.preparedQuery("SELECT coalesce(r.state, 'disconnected') AS state,"
            + " pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint AS lag_bytes,"
            + " (extract(epoch FROM r.replay_lag) * 1000)::bigint AS lag_ms,"
            + " (SELECT count(*) FROM pg_publication_tables p WHERE p.pubname = s.slot_name)::int AS published"
            + " FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.application_name = s.slot_name"
            + " WHERE s.slot_name = $1 ORDER BY r.state = 'streaming' DESC NULLS LAST LIMIT 1")
        .execute(Tuple.of(slot))
        .map(rows -> {
          if (rows.size() == 0) {
            return Optional.empty();
          }
          Row row = rows.iterator().next();
          Long bytes = row.getLong("lag_bytes");
          Long ms = row.getLong("lag_ms");
          return Optional.of(new Stream(row.getString("state"), bytes == null ? -1 : Math.max(0, bytes), ms == null ? -1 : ms,
              row.getInteger("published")));
        });
  }

  /** The tables of a publication in this database, as {@code schema.table}. */
  public static Future<Set<String>> publishedTables(Pool pool, String publication) {
    return names(pool, "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = $1", publication);
  }

  /**
   * The tables of a subscription in this database (the subscriber's) that are {@code ready}
   * ({@code srsubstate = 'r'}: copied, their changes applied as they stream), as {@code schema.table}.
   * A table still in its initial copy ({@code i}, {@code d}, {@code f}, {@code s}) does not hold
   * what the apply worker confirms for it.
   */
  public static Future<Set<String>> readyTables(Pool pool, String subscription) {
    return names(pool, "SELECT n.nspname || '.' || c.relname FROM pg_subscription s"
        + " JOIN pg_subscription_rel r ON r.srsubid = s.oid JOIN pg_class c ON c.oid = r.srrelid"
        + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE s.subname = $1 AND r.srsubstate = 'r'"
        + " AND s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())", subscription);
  }

  /** The first column of {@code sql}'s rows, {@code $1} being {@code name}. */
  private static Future<Set<String>> names(Pool pool, String sql, String name) {
    return pool.preparedQuery(sql).execute(Tuple.of(name)).map(rows -> {
      Set<String> names = new HashSet<>();
      rows.forEach(row -> names.add(row.getString(0)));
      return names;
    });
  }

  /** The subscription's state in this database: absent, enabled or disabled, its connection, its tables. */
  public record Subscription(boolean enabled, String conninfo, int tables) {}

  public static Future<Optional<Subscription>> subscription(Pool pool, String name) {
    return pool.preparedQuery("SELECT s.subenabled, s.subconninfo,"
            + " (SELECT count(*) FROM pg_subscription_rel r WHERE r.srsubid = s.oid)::int AS tables"
            + " FROM pg_subscription s WHERE s.subname = $1 AND s.subdbid = (SELECT oid FROM pg_database"
            + " WHERE datname = current_database())")
        .execute(Tuple.of(name))
        .map(Catalog::firstSubscription);
  }

  private static Optional<Subscription> firstSubscription(RowSet<Row> rows) {
    if (rows.size() == 0) {
      return Optional.empty();
    }
    Row row = rows.iterator().next();
    return Optional.of(new Subscription(row.getBoolean(0), row.getString(1), row.getInteger(2)));
  }

  /**
   * Creates the subscription (and its slot on the publisher; a slot left there by an earlier
   * subscription is reused). Fails while the publisher is unreachable.
   */
  public static Future<Void> createSubscription(Pool pool, String name, String conninfo) {
    String create = "CREATE SUBSCRIPTION " + name + " CONNECTION " + literal(conninfo) + " PUBLICATION " + name;
    return pool.query(create + " WITH (copy_data = true)").execute()
        .recover(err -> String.valueOf(err.getMessage()).contains("already exists")
            ? pool.query(create + " WITH (copy_data = true, create_slot = false, slot_name = '" + name + "')").execute()
            : Future.failedFuture(err))
        .mapEmpty();
  }

  public static Future<Void> alterConnection(Pool pool, String name, String conninfo) {
    return pool.query("ALTER SUBSCRIPTION " + name + " CONNECTION " + literal(conninfo)).execute().mapEmpty();
  }

  /** Picks up tables the publication gained (or had none yet when the subscription was made). */
  public static Future<Void> refresh(Pool pool, String name) {
    return pool.query("ALTER SUBSCRIPTION " + name + " REFRESH PUBLICATION").execute().mapEmpty();
  }

  public static Future<Void> enable(Pool pool, String name, boolean enabled) {
    return pool.query("ALTER SUBSCRIPTION " + name + (enabled ? " ENABLE" : " DISABLE")).execute().mapEmpty();
  }

  /** A libpq connection string: each value single-quoted, quotes and backslashes escaped. */
  public static String conninfo(String host, int port, String database, String user, String password) {
    StringBuilder out = new StringBuilder()
        .append("host=").append(quoted(host)).append(" port=").append(port)
        .append(" dbname=").append(quoted(database)).append(" user=").append(quoted(user));
    if (password != null && !password.isBlank()) {
      out.append(" password=").append(quoted(password));
    }
    // No application_name: the walsender is then named after the subscription, which is what
    // synchronous_standby_names and pg_stat_replication are matched on.
    return out.toString();
  }

  private static String quoted(String value) {
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }

  /** A SQL string literal. */
  static String literal(String text) {
    return "'" + text.replace("'", "''") + "'";
  }
}
