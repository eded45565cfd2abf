package dev.genmesh.region.requests.impl;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The request log's batching writer (docs/architecture.md, "What is committed when"): statements
 * that arrive while a transaction is in flight wait for it, then run together in the next one,
 * each kind of statement as one pipelined batch, under one commit. One transaction at a time per
 * pool, so the batch grows with the load and a lone statement runs at once, as before. Reads of a
 * row by id join too: they see what was committed before they were asked, and cost no
 * transaction of their own.
 *
 * <p>A caller's future completes only after the commit that holds its statement, with its own
 * result (I1: the 202 follows the commit). If the batch fails, its statements run again one by one,
 * each in its own transaction, so a statement that cannot commit fails alone and its neighbours
 * commit. Futures complete on the caller's context.
 */
public final class GroupCommit {
  /** Statements per transaction at most, so that one transaction stays short under a burst. */
  static final int MAX_BATCH = 256;

  private final Pool pool;
  private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
  private final AtomicLong transactions = new AtomicLong();
  private final AtomicLong statements = new AtomicLong();
  private final AtomicLong retriedAlone = new AtomicLong();
  private boolean running;

  public GroupCommit(Pool pool) {
    this.pool = pool;
  }

  /** Runs {@code sql} with {@code params} in the next transaction; completes after its commit. */
  public Future<RowSet<Row>> execute(String sql, Tuple params) {
    Pending pending = new Pending(sql, params, Promise.promise(), Vertx.currentContext());
    boolean start;
    synchronized (this) {
      waiting.add(pending);
      start = !running;
      running = true;
    }
    if (start) {
      next();
    }
    return pending.promise.future();
  }

  /** Transactions committed or tried so far (for the metrics). */
  public long transactions() {
    return transactions.get();
  }

  /** Statements run through this writer so far. */
  public long statements() {
    return statements.get();
  }

  /** Statements run again alone after their batch failed. */
  public long retriedAlone() {
    return retriedAlone.get();
  }

  /** Statements waiting for the next transaction now. */
  public synchronized int waiting() {
    return waiting.size();
  }

  private void next() {
    List<Pending> batch = new ArrayList<>();
    synchronized (this) {
      while (!waiting.isEmpty() && batch.size() < MAX_BATCH) {
        batch.add(waiting.poll());
      }
      if (batch.isEmpty()) {
        running = false;
        return;
      }
    }
    statements.addAndGet(batch.size());
    run(batch).onComplete(done -> next());
  }

  private Future<Void> run(List<Pending> batch) {
    transactions.incrementAndGet();
    if (batch.size() == 1) {
      return alone(batch.get(0));
    }
    Map<String, List<Pending>> bySql = new LinkedHashMap<>();
    batch.forEach(p -> bySql.computeIfAbsent(p.sql, sql -> new ArrayList<>()).add(p));
    return pool.withTransaction(conn -> {
      List<Future<RowSet<Row>>> runs = new ArrayList<>(bySql.size());
      bySql.forEach((sql, group) -> runs.add(conn.preparedQuery(sql).executeBatch(group.stream().map(p -> p.params).toList())));
      return Future.all(runs).map(all -> runs);
    }).transform(committed -> {
      if (committed.failed()) {
        return retryAlone(batch);
      }
      List<Future<RowSet<Row>>> runs = committed.result();
      int i = 0;
      for (List<Pending> group : bySql.values()) {
        RowSet<Row> rows = runs.get(i++).result();
        for (Pending p : group) {
          p.settle(Future.succeededFuture(rows));
          rows = rows.next();
        }
      }
      return Future.succeededFuture();
    });
  }

  /** The batch did not commit: each statement once more in its own transaction, concurrently. */
  private Future<Void> retryAlone(List<Pending> batch) {
    retriedAlone.addAndGet(batch.size());
    transactions.addAndGet(batch.size());
    return Future.join(batch.stream().map(this::alone).toList()).mapEmpty();
  }

  private Future<Void> alone(Pending p) {
    return pool.preparedQuery(p.sql).execute(p.params).transform(result -> {
      p.settle(result);
      return Future.succeededFuture();
    });
  }

  private record Pending(String sql, Tuple params, Promise<RowSet<Row>> promise, Context context) {
    void settle(AsyncResult<RowSet<Row>> outcome) {
      if (context == null || context == Vertx.currentContext()) {
        promise.handle(outcome);
      } else {
        context.runOnContext(v -> promise.handle(outcome));
      }
    }
  }
}
