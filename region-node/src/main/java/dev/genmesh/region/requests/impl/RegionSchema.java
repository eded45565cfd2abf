package dev.genmesh.region.requests.impl;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import java.util.List;

/**
 * The region's tables live in a schema named after the region ({@code RegionSchemas}), which its
 * connections put first on their search_path; its peer's database holds a replica of them under
 * the same names. Prepared before the migrations: the schema exists, the database's default
 * search_path is it (so that psql and tests see the region's tables unqualified), and tables an
 * older version kept in {@code public} are moved into it.
 */
public final class RegionSchema {
  /** The tables replicated to the peer region: the request log. */
  public static final List<String> REPLICATED = List.of("requests", "request_events");
  /** Every table the migrations create, moved as a whole from {@code public}. */
  static final List<String> TABLES = List.of("schema_migrations", "requests", "request_events", "scaling_decisions",
      "adoptions", "held_results");

  private RegionSchema() {}

  /** The region's own schema: made, filled from {@code public} if an older version left the log there, the default. */
  public static Future<Void> prepare(Pool pool, String schema) {
    StringBuilder move = new StringBuilder();
    for (String table : TABLES) {
      move.append("  IF to_regclass('public.").append(table).append("') IS NOT NULL THEN EXECUTE 'ALTER TABLE public.")
          .append(table).append(" SET SCHEMA ").append(schema).append("'; END IF;\n");
    }
    // One DO block: schema, move (only when the region's schema has no log yet), default search_path.
    String sql = "DO $$ BEGIN\n"
        + "  PERFORM pg_advisory_xact_lock(" + Migrations.LOCK_KEY + ");\n"
        + "  CREATE SCHEMA IF NOT EXISTS " + schema + ";\n"
        + "  IF to_regclass('" + schema + ".requests') IS NULL AND to_regclass('public.requests') IS NOT NULL THEN\n"
        + move
        + "  END IF;\n"
        + "  BEGIN\n"
        + "    EXECUTE format('ALTER DATABASE %I SET search_path = %I', current_database(), '" + schema + "');\n"
        + "  EXCEPTION WHEN insufficient_privilege THEN NULL;\n"
        + "  END;\n"
        + "END $$";
    return pool.query(sql).execute().mapEmpty();
  }

  /** A schema for another region's replica: made, nothing else. */
  public static Future<Void> prepareReplica(Pool pool, String schema) {
    return pool.query("CREATE SCHEMA IF NOT EXISTS " + schema).execute().mapEmpty();
  }
}
