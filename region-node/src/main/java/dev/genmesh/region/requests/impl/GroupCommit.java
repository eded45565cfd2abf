package dev.genmesh.region.requests.impl;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Timer;
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
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The request log's batching writer (docs/architecture.md, "What is committed when"): statements
 * that arrive while a transaction is in flight wait for it, then run together in the next one,
 * each kind of statement as one pipelined batch, under one commit. The whole transaction (BEGIN,
 * the batches, COMMIT) goes to PostgreSQL at once and costs one round trip
 * ({@link PipelinedTransaction}). One transaction at a time per
 * pool, so the batch grows with the load and a lone statement runs at once, as before. Reads of a
 * row by id join too: they see what was committed before they were asked, and cost no
 * transaction of their own.
 *
 * <p>The linger: when statements waited for the transaction in flight, the next one starts up to
 * {@code linger} after that commit (at once when {@value #FULL_BATCH} wait), so that the statements
 * the commit's own callers send next can share it. Only under load: a statement that finds the
 * writer idle runs at once. A statement waits at most the transaction in flight and the linger.
 *
 * <p>A caller's future completes only after the commit that holds its statement, with its own
 * result (I1: the 202 follows the commit), never on its statement's own reply. If the batch fails
 * (a statement failed, so PostgreSQL rolled the transaction back, or the COMMIT failed), its
 * statements run again one by one, each in its own transaction, so a statement that cannot commit
 * fails alone and its neighbours commit. A lone statement runs alone, in autocommit, without
 * BEGIN and COMMIT. Futures complete on the caller's context.
 */
public final class GroupCommit {
  /** Statements per transaction at most, so that one transaction stays short under a burst. */
  static final int MAX_BATCH = 256;
  /** Statements waiting that end a linger at once: such a batch is worth its commit already. */
  static final int FULL_BATCH = 8;
  /** The kind of a statement its caller did not name. */
  public static final String UNNAMED = "other";

  private final Pool pool;
  private final long lingerMicros;
  private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
  private final AtomicLong transactions = new AtomicLong();
  private final AtomicLong statements = new AtomicLong();
  private final AtomicLong retriedAlone = new AtomicLong();
  private final AtomicLong lingered = new AtomicLong();
  private final Map<String, LongAdder> aloneByKind = new ConcurrentHashMap<>();
  private boolean running;
  /** A linger's timer, while one runs (guarded by {@code this}). */
  private Timer linger;

  /** No linger: every transaction starts as soon as the one before it ends. */
  public GroupCommit(Pool pool) {
    this(pool, 0);
  }

  /** @param lingerMicros how long the next transaction may wait for more statements after a commit others waited for */
  public GroupCommit(Pool pool, long lingerMicros) {
    this.pool = pool;
    this.lingerMicros = Math.max(0, lingerMicros);
  }

  /** Runs {@code sql} with {@code params} in the next transaction; completes after its commit. */
  public Future<RowSet<Row>> execute(String sql, Tuple params) {
    return execute(UNNAMED, sql, params);
  }

  /** As above; {@code kind} names the statement in the counters (a status, {@code read}, {@code usage_mark}). */
  public Future<RowSet<Row>> execute(String kind, String sql, Tuple params) {
    Pending pending = new Pending(kind, sql, params, Promise.promise(), Vertx.currentContext());
    boolean start;
    synchronized (this) {
      waiting.add(pending);
      start = !running || (linger != null && waiting.size() >= FULL_BATCH && linger.cancel());
      if (start) {
        linger = null;
      }
      running = true;
    }
    if (start) {
      runWaiting();
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

  /** Transactions that waited for a linger before they started. */
  public long lingered() {
    return lingered.get();
  }

  /** Transactions that held a single statement, by the statement's kind (which state changes commit alone). */
  public Map<String, Long> aloneByKind() {
    Map<String, Long> out = new TreeMap<>();
    aloneByKind.forEach((kind, count) -> out.put(kind, count.sum()));
    return out;
  }

  /** Transactions that held a single statement of {@code kind}. */
  public long alone(String kind) {
    LongAdder count = aloneByKind.get(kind);
    return count == null ? 0 : count.sum();
  }

  /** Statements waiting for the next transaction now. */
  public synchronized int waiting() {
    return waiting.size();
  }

  /** After a transaction: the next one at once, after a linger, or none (nothing waits). */
  private void next() {
    Context context = Vertx.currentContext();
    synchronized (this) {
      if (waiting.isEmpty()) {
        running = false;
        return;
      }
      if (lingerMicros > 0 && waiting.size() < FULL_BATCH && context != null) {
        Timer timer = context.owner().timer(lingerMicros, TimeUnit.MICROSECONDS); // on this context
        linger = timer;
        lingered.incrementAndGet();
        timer.onSuccess(v -> lingerEnded(timer));
        return;
      }
    }
    runWaiting();
  }

  private void lingerEnded(Timer timer) {
    synchronized (this) {
      if (linger != timer) {
        return; // a full batch started the transaction already
      }
      linger = null;
    }
    runWaiting();
  }

  private void runWaiting() {
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

  /** A lone statement alone, in autocommit; more in one pipelined transaction (PipelinedTransaction). */
  private Future<Void> run(List<Pending> batch) {
    transactions.incrementAndGet();
    if (batch.size() == 1) {
      aloneByKind.computeIfAbsent(batch.get(0).kind, k -> new LongAdder()).increment();
      return alone(batch.get(0));
    }
    Map<String, List<Pending>> bySql = new LinkedHashMap<>();
    batch.forEach(p -> bySql.computeIfAbsent(p.sql, sql -> new ArrayList<>()).add(p));
    List<List<Pending>> groups = List.copyOf(bySql.values());
    List<List<Tuple>> params = groups.stream().map(group -> group.stream().map(Pending::params).toList()).toList();
    return PipelinedTransaction.run(pool, List.copyOf(bySql.keySet()), params).transform(ran -> {
      if (ran.failed() || !ran.result().committed()) {
        return retryAlone(batch);
      }
      List<Pending> refused = new ArrayList<>();
      List<AsyncResult<RowSet<Row>>> replies = ran.result().batches();
      for (int i = 0; i < groups.size(); i++) {
        if (replies.get(i).failed()) {
          refused.addAll(groups.get(i)); // never sent (the client refused a parameter): alone, to find which
          continue;
        }
        RowSet<Row> rows = replies.get(i).result();
        for (Pending p : groups.get(i)) {
          p.settle(Future.succeededFuture(rows));
          rows = rows.next();
        }
      }
      return refused.isEmpty() ? Future.succeededFuture() : retryAlone(refused);
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

  private record Pending(String kind, String sql, Tuple params, Promise<RowSet<Row>> promise, Context context) {
    void settle(AsyncResult<RowSet<Row>> outcome) {
      if (context == null || context == Vertx.currentContext()) {
        promise.handle(outcome);
      } else {
        context.runOnContext(v -> promise.handle(outcome));
      }
    }
  }
}
