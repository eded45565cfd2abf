package dev.genmesh.region.requests;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.embedded.FaultProxy;
import dev.genmesh.region.requests.impl.GroupCommit;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The group commit's transaction in one round trip, on a real PostgreSQL: BEGIN, the batches and
 * COMMIT go at once, a caller hears of its statement after the commit, and whatever fails (a
 * statement, the COMMIT, a parameter the client refuses) fails alone and leaves the only
 * connection of the pool usable, outside any transaction.
 */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class PipelinedGroupCommitTest {
  private static final String INSERT = "INSERT INTO marks (id, note) VALUES ($1, $2) RETURNING id";
  private static final String NOTE = "INSERT INTO notes (mark, note) VALUES ($1, $2)";
  /** A note of a mark that no transaction wrote passes its INSERT and makes the COMMIT fail. */
  private static final String SCHEMA = """
      CREATE TABLE marks (id int PRIMARY KEY, note text NOT NULL);
      CREATE TABLE notes (mark int NOT NULL REFERENCES marks (id) DEFERRABLE INITIALLY DEFERRED, note text NOT NULL);
      """;
  /** A fresh database with the schema, and every pool a test opens on it (closed with it). */
  private record Db(Vertx vertx, TestStores stores, String name, List<Pool> pools) implements AutoCloseable {
    static Db fresh(Vertx vertx, TestStores stores) {
      Db db = new Db(vertx, stores, stores.createDatabase(), new ArrayList<>());
      await(db.opened(stores.pool(vertx, db.name)).query(SCHEMA).execute());
      return db;
    }

    Pool opened(Pool pool) {
      pools.add(pool);
      return pool;
    }

    /** A pool of one connection to this database, on {@code port} (PostgreSQL's or a proxy's). */
    Pool poolOfOne(int port) {
      return opened(PgBuilder.pool().with(new PoolOptions().setMaxSize(1))
          .connectingTo(new PgConnectOptions().setHost("127.0.0.1").setPort(port).setDatabase(name)
              .setUser("postgres").setCachePreparedStatements(true))
          .using(vertx).build());
    }

    GroupCommit writerOnOneConnection() {
      return new GroupCommit(poolOfOne(stores.postgresPort()));
    }

    /**
     * Sends {@code count} statements at once from one event loop: the first finds the writer idle
     * and runs alone; the others wait for it and make the next transaction together.
     */
    List<Future<RowSet<Row>>> together(int count, IntFunction<Future<RowSet<Row>>> statement) {
      Promise<List<Future<RowSet<Row>>>> sent = Promise.promise();
      vertx.runOnContext(v -> {
        List<Future<RowSet<Row>>> all = new ArrayList<>();
        for (int i = 0; i < count; i++) {
          all.add(statement.apply(i));
        }
        sent.complete(all);
      });
      List<Future<RowSet<Row>>> all = await(sent.future());
      await(Future.join(all).otherwiseEmpty());
      return all;
    }

    long count(String sql) {
      return (Long) stores.query(name, sql).get(0).get("n");
    }

    /** Connections of this database inside a transaction (open or aborted) while nothing runs. */
    long idleInTransaction() {
      return count("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
          + " AND state LIKE 'idle in transaction%'");
    }

    @Override
    public void close() {
      pools.forEach(pool -> await(pool.close()));
    }
  }

  @Test
  void aBatchCommitsInOneTransactionAndOneRoundTripAndEachCallerSeesItsRowCommitted(Vertx vertx, TestStores stores) throws Exception {
    try (RoundTripProxy proxy = RoundTripProxy.start(stores.postgresPort(), 50); Db db = Db.fresh(vertx, stores)) {
      GroupCommit writer = new GroupCommit(db.poolOfOne(proxy.port()));
      Pool other = db.opened(stores.pool(vertx, db.name()));
      await(writer.execute(INSERT, Tuple.of(0, "prepares the statement on the connection")));
      long roundTrips = proxy.roundTrips();
      long transactions = writer.transactions();

      // When a caller hears of its row, another connection sees it: it was committed before.
      List<Future<Long>> seen = new ArrayList<>();
      List<Future<RowSet<Row>>> all = db.together(20, i -> {
        Future<RowSet<Row>> done = writer.execute(INSERT, Tuple.of(i + 1, "take " + i));
        seen.add(done.compose(rows -> other.preparedQuery("SELECT count(*) FROM marks WHERE id = $1")
            .execute(Tuple.of(rows.iterator().next().getInteger(0))).map(r -> r.iterator().next().getLong(0))));
        return done;
      });

      for (int i = 0; i < all.size(); i++) {
        assertThat(all.get(i).result().iterator().next().getInteger("id")).as("statement %d's own row", i).isEqualTo(i + 1);
        assertThat(await(seen.get(i))).as("row %d visible to another connection when its caller heard of it", i).isEqualTo(1L);
      }
      assertThat(writer.transactions() - transactions).as("the first alone, the nineteen others together").isEqualTo(2);
      assertThat(writer.retriedAlone()).isZero();
      // Rows written by one transaction carry its id as xmin.
      assertThat(db.count("SELECT count(DISTINCT xmin::text) AS n FROM marks WHERE id > 1")).isEqualTo(1);
      // The lone statement: one round trip; the transaction of nineteen (BEGIN, batch, COMMIT): one more.
      assertThat(proxy.roundTrips() - roundTrips).isEqualTo(2);
    }
  }

  @Test
  void aStatementThatBreaksAConstraintFailsAloneAndThePoolOfOneKeepsWorking(Vertx vertx, TestStores stores) {
    try (Db db = Db.fresh(vertx, stores)) {
      GroupCommit writer = db.writerOnOneConnection();
      await(writer.execute(INSERT, Tuple.of(5, "there first")));

      List<Future<RowSet<Row>>> all = db.together(11, i -> writer.execute(INSERT, Tuple.of(i == 6 ? 5 : 100 + i, "take " + i)));

      for (int i = 1; i < all.size(); i++) {
        if (i == 6) {
          assertThat(all.get(i).cause()).isInstanceOf(PgException.class);
          assertThat(((PgException) all.get(i).cause()).getSqlState()).as("unique violation").isEqualTo("23505");
        } else {
          assertThat(all.get(i).succeeded()).as("statement %d beside the bad one: %s", i, all.get(i).cause()).isTrue();
        }
      }
      assertThat(writer.retriedAlone()).as("the batch of ten, again one by one").isEqualTo(10);
      assertThat(db.count("SELECT count(*) AS n FROM marks WHERE id >= 100")).isEqualTo(10);
      assertThat(db.idleInTransaction()).isZero();
      // The one connection is not left in the aborted transaction: the next batches commit.
      for (int round = 0; round < 3; round++) {
        int base = 1000 * (round + 1);
        List<Future<RowSet<Row>>> next = db.together(5, i -> writer.execute(INSERT, Tuple.of(base + i, "later")));
        assertThat(next).allMatch(Future::succeeded);
      }
      assertThat(db.count("SELECT count(*) AS n FROM marks WHERE id >= 1000")).isEqualTo(15);
      assertThat(writer.retriedAlone()).isEqualTo(10);
    }
  }

  @Test
  void aBatchWhoseCommitFailsRunsAgainAloneAndLeavesNoTransactionOpen(Vertx vertx, TestStores stores) {
    try (Db db = Db.fresh(vertx, stores)) {
      GroupCommit writer = db.writerOnOneConnection();
      List<Future<RowSet<Row>>> all = db.together(9, i -> i == 4
          ? writer.execute(NOTE, Tuple.of(999, "of a mark nobody wrote"))
          : writer.execute(INSERT, Tuple.of(i, "take " + i)));

      assertThat(all.get(4).cause()).isInstanceOf(PgException.class);
      assertThat(((PgException) all.get(4).cause()).getSqlState()).as("foreign key violation, at commit").isEqualTo("23503");
      for (int i = 0; i < all.size(); i++) {
        if (i != 4) {
          assertThat(all.get(i).succeeded()).as("statement %d: %s", i, all.get(i).cause()).isTrue();
        }
      }
      assertThat(writer.retriedAlone()).isEqualTo(8);
      assertThat(db.count("SELECT count(*) AS n FROM marks")).isEqualTo(8);
      assertThat(db.count("SELECT count(*) AS n FROM notes")).isZero();
      assertThat(db.idleInTransaction()).isZero();
      List<Future<RowSet<Row>>> next = db.together(4, i -> writer.execute(INSERT, Tuple.of(100 + i, "later")));
      assertThat(next).allMatch(Future::succeeded);
    }
  }

  /**
   * A parameter the client refuses (a text for an int) fails its batch before it is sent: that
   * aborts nothing, so the other kind of statement commits in the transaction, and only the refused
   * batch's statements run again alone (its good ones commit, the bad one fails).
   */
  @Test
  void aBatchTheClientRefusesRunsAgainAloneAndTheOthersCommitInTheTransaction(Vertx vertx, TestStores stores) {
    try (Db db = Db.fresh(vertx, stores)) {
      GroupCommit writer = db.writerOnOneConnection();
      await(writer.execute(INSERT, Tuple.of(0, "noted next")));
      await(writer.execute(NOTE, Tuple.of(0, "prepares the statement on the connection")));
      // Marks 1, 3, 5, 7 and their notes (their FOREIGN KEY checked at the COMMIT that holds both).
      List<Future<RowSet<Row>>> all = db.together(9, i -> i % 2 == 1
          ? writer.execute(INSERT, Tuple.of(i, "take " + i))
          : writer.execute(NOTE, Tuple.of(i == 4 ? "three" : Math.max(0, i - 1), "note " + i)));

      assertThat(all.get(4).failed()).as("the refused parameter").isTrue();
      for (int i = 0; i < all.size(); i++) {
        if (i != 4) {
          assertThat(all.get(i).succeeded()).as("statement %d: %s", i, all.get(i).cause()).isTrue();
        }
      }
      assertThat(writer.retriedAlone()).as("the notes of the batch (2, 4, 6, 8), not the marks").isEqualTo(4);
      assertThat(db.count("SELECT count(*) AS n FROM marks WHERE id > 0")).isEqualTo(4);
      assertThat(db.count("SELECT count(*) AS n FROM notes WHERE mark > 0")).isEqualTo(3);
      assertThat(db.idleInTransaction()).isZero();
    }
  }

  /**
   * The connection dies mid-transaction (its statement waits for a row another transaction holds):
   * every caller fails, and the pool of one, its connection gone, serves the next batches on a new
   * one. What was sent stays all or nothing: the whole transaction, COMMIT included, had reached
   * PostgreSQL, which may still commit it once the row is free, as after a COMMIT whose reply was
   * lost (docs/architecture.md, "What is committed when").
   */
  @Test
  void aConnectionLostMidTransactionFailsItsCallersAndThePoolOfOneRecovers(Vertx vertx, TestStores stores) {
    try (FaultProxy proxy = FaultProxy.start("127.0.0.1", stores.postgresPort()); Db db = Db.fresh(vertx, stores)) {
      GroupCommit writer = new GroupCommit(db.poolOfOne(proxy.port()));
      SqlConnection holder = await(db.opened(stores.pool(vertx, db.name())).getConnection());
      await(holder.query("BEGIN").execute().compose(v -> holder.query("INSERT INTO marks VALUES (7, 'held')").execute()));

      List<Future<RowSet<Row>>> all = new ArrayList<>();
      vertx.runOnContext(v -> {
        for (int i = 0; i < 6; i++) {
          all.add(writer.execute(INSERT, Tuple.of(i == 3 ? 7 : 10 + i, "take " + i)));
        }
      });
      Waits.eventually("the batch waits for the held row",
          () -> db.count("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted") == 1);
      proxy.down();
      await(Future.join(all).otherwiseEmpty());
      for (int i = 1; i < all.size(); i++) {
        assertThat(all.get(i).failed()).as("statement %d, its connection lost, and PostgreSQL out of reach", i).isTrue();
      }
      await(holder.query("ROLLBACK").execute());
      // The first alone, before the cut; the batch of five all or nothing (whenever its backend gets to the COMMIT).
      assertThat(db.count("SELECT count(*) AS n FROM marks WHERE id >= 10") + db.count("SELECT count(*) AS n FROM marks WHERE id = 7"))
          .isIn(1L, 6L);

      proxy.up();
      List<Future<RowSet<Row>>> next = db.together(5, i -> writer.execute(INSERT, Tuple.of(100 + i, "later")));
      assertThat(next).allMatch(Future::succeeded);
      assertThat(db.count("SELECT count(*) AS n FROM marks WHERE id >= 100")).isEqualTo(5);
      assertThat(db.idleInTransaction()).isZero();
    }
  }
}
