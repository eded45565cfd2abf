package dev.genmesh.users.impl;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;

/**
 * One copy of the user database as it answers now.
 *
 * @param standby in recovery (a standby)
 * @param timeline a primary's current timeline (0 for a standby)
 * @param walPosition how far its WAL goes: a primary's current write position, a standby's received
 *     position (what a promotion of it would keep), as an LSN's byte offset
 */
public record ServerState(boolean standby, long timeline, long walPosition) {
  private static final String SQL = "SELECT pg_is_in_recovery() AS standby,"
      + " CASE WHEN pg_is_in_recovery() THEN 0"
      + "   ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint END AS timeline,"
      + " (CASE WHEN pg_is_in_recovery() THEN coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())"
      + "   ELSE pg_current_wal_lsn() END - '0/0'::pg_lsn)::bigint AS position";

  public static Future<ServerState> of(Pool pool) {
    return pool.query(SQL).execute().map(rows -> {
      Row row = rows.iterator().next();
      Long position = row.getLong("position");
      return new ServerState(row.getBoolean("standby"), row.getLong("timeline"), position == null ? 0 : position);
    });
  }
}
