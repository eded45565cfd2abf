package dev.genmesh.region.requests.impl;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;

/**
 * One transaction of the group commit in one round trip: on one connection of the pool, BEGIN,
 * every statement batch and COMMIT are sent at once (the PG client pipelines them, up to the
 * connection's pipelining limit, 256 commands by default; beyond it the rest follow as replies
 * come) and their replies are awaited together.
 *
 * <p>PostgreSQL answers the statements after a failed one with an error and the COMMIT of an
 * aborted transaction with ROLLBACK, which the client reports as a success; so whether the
 * transaction committed is read from the statements' replies, not from the COMMIT's alone. A
 * statement the client refused before sending it (its parameters do not fit) aborts nothing: the
 * others commit. The connection goes back to the pool outside any transaction: after a COMMIT that
 * did not succeed (an error, or a connection that closed before it went out) a ROLLBACK goes first.
 *
 * <p>What it costs: the COMMIT is with PostgreSQL as soon as the statements are. If the connection
 * is lost meanwhile, the callers fail, but PostgreSQL may still commit the whole transaction (all
 * or nothing) when it gets to it: the window in which a caller told of a failure may find its
 * statement committed, the COMMIT's round trip before, now spans the transaction.
 */
final class PipelinedTransaction {
  private PipelinedTransaction() {}

  /**
   * What a transaction did: {@code committed} when its COMMIT committed it, and then every batch
   * that succeeded is durable and every one that failed never reached PostgreSQL; otherwise
   * nothing of it is committed. {@code batches} are in the order they were given.
   */
  record Outcome(boolean committed, List<AsyncResult<RowSet<Row>>> batches) {}

  /**
   * Runs {@code sqls.get(i)} with every tuple of {@code params.get(i)}, in that order, in one
   * transaction. Fails only when no connection could be had (then nothing was sent).
   */
  static Future<Outcome> run(Pool pool, List<String> sqls, List<List<Tuple>> params) {
    return pool.getConnection().compose(conn -> {
      Future<RowSet<Row>> begin = conn.query("BEGIN").execute();
      List<Future<RowSet<Row>>> batches = new ArrayList<>(sqls.size());
      for (int i = 0; i < sqls.size(); i++) {
        batches.add(conn.preparedQuery(sqls.get(i)).executeBatch(params.get(i)));
      }
      Future<RowSet<Row>> commit = conn.query("COMMIT").execute();
      List<Future<RowSet<Row>>> all = new ArrayList<>(batches);
      all.add(begin);
      all.add(commit);
      return Future.join(all).transform(replies -> {
        boolean aborted = batches.stream().anyMatch(b -> b.failed() && b.cause() instanceof PgException);
        Outcome outcome = new Outcome(begin.succeeded() && commit.succeeded() && !aborted, List.copyOf(batches));
        return release(conn, commit.succeeded()).map(outcome);
      });
    });
  }

  /** Back to the pool; a ROLLBACK first unless a COMMIT (or ROLLBACK in its place) ended the transaction. */
  private static Future<Void> release(SqlConnection conn, boolean ended) {
    Future<?> end = ended ? Future.succeededFuture() : conn.query("ROLLBACK").execute();
    return end.transform(rolledBack -> conn.close()).otherwiseEmpty();
  }
}
