package dev.genmesh.region.autoscale.impl;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Only one region node per region runs the autoscaler: the one holding a PostgreSQL session-level
 * advisory lock named after the region, on a connection it keeps open. Postgres (not Hazelcast)
 * because the request log is already the region's single source of truth and a node cut off from
 * it cannot see the queues it would scale for anyway; when the holder dies or loses its
 * connection, Postgres releases the lock and another node takes it at its next evaluation.
 */
public final class AutoscalerLeadership {
  private static final Logger LOG = LoggerFactory.getLogger(AutoscalerLeadership.class);

  private final Pool pool;
  private final String region;
  private SqlConnection held;

  public AutoscalerLeadership(Pool pool, String region) {
    this.pool = pool;
    this.region = region;
  }

  /** True while this node holds the region's lock (taking it if free); never fails. */
  public Future<Boolean> lead() {
    if (held != null) {
      SqlConnection connection = held;
      return connection.query("SELECT 1").execute().map(rows -> true).recover(err -> {
        LOG.warn("{}: autoscaler leadership lost with its connection: {}", region, err.toString());
        release();
        return Future.succeededFuture(false);
      });
    }
    return pool.getConnection().compose(connection -> connection
        .preparedQuery("SELECT pg_try_advisory_lock(hashtext($1)) AS locked")
        .execute(Tuple.of("genmesh.autoscaler." + region))
        .map(rows -> {
          Row row = rows.iterator().next();
          if (row.getBoolean("locked")) {
            held = connection;
            LOG.info("{}: this node runs the region's autoscaler", region);
            return true;
          }
          connection.close();
          return false;
        })
        .onFailure(err -> connection.close()))
        .recover(err -> Future.succeededFuture(false));
  }

  /** Gives the lock up (closing the session releases it). */
  public Future<Void> release() {
    SqlConnection connection = held;
    held = null;
    return connection == null ? Future.succeededFuture() : connection.close().recover(err -> Future.succeededFuture());
  }
}
