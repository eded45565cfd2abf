package dev.genmesh.region.requests;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

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
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
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
  /** A mark noted 'refused at commit' passes its INSERT and makes the COMMIT fail (a deferred check). */
  private static final String SCHEMA = """
      CREATE TABLE marks (id int PRIMARY KEY, note text NOT NULL);
      CREATE TABLE notes (mark int NOT NULL, note text NOT NULL);
      CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.note = 'refused at commit' THEN
          RAISE EXCEPTION 'mark % refused at commit', NEW.id;
        END IF;
        RETURN NULL;
      END $$;
      CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON marks DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION refuse_at_commit();
      """;

  private TestStores stores;
  private Vertx vertx;
  private String database;
  private Pool other;
  private final List<Pool> pools = new ArrayList<>();

  @BeforeEach
  void fresh(Vertx vertx, TestStores stores) {
    this.vertx = vertx;
    this.stores = stores;
    database = stores.createDatabase();
    other = stores.pool(vertx, database);
    await(other.query(SCHEMA).execute());
  }

  @AfterEach
  void close() {
    pools.forEach(pool -> await(pool.close()));
    await(other.close());
  }

  /** A pool of one connection to the test database, on {@code port} (PostgreSQL's or a proxy's). */
  private Pool poolOfOne(int port) {
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(1))
        .connectingTo(new PgConnectOptions().setHost("127.0.0.1").setPort(port).setDatabase(database)
            .setUser("postgres").setCachePreparedStatements(true))
        .using(vertx).build();
    pools.add(pool);
    return pool;
  }

  /**
   * Sends {@code count} statements at once from one event loop: the first finds the writer idle and
   * runs alone; the others wait for it and make the next transaction together.
   */
  private List<Future<RowSet<Row>>> together(GroupCommit writer, int count, IntFunction<Future<RowSet<Row>>> statement) {
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

  private long count(String sql) {
    return (Long) stores.query(database, sql).get(0).get("n");
  }

  /** Connections of the test database inside a transaction (open or aborted) while nothing runs. */
  private long idleInTransaction() {
    return count("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
        + " AND state LIKE 'idle in transaction%'");
  }

  @Test
  void aBatchCommitsInOneTransactionAndOneRoundTripAndEachCallerSeesItsRowCommitted() throws Exception {
    try (RoundTripProxy proxy = RoundTripProxy.start(stores.postgresPort(), 50)) {
      GroupCommit writer = new GroupCommit(poolOfOne(proxy.port()));
      await(writer.execute(INSERT, Tuple.of(0, "prepares the statement on the connection")));
      long roundTrips = proxy.roundTrips();
      long transactions = writer.transactions();

      // When a caller hears of its row, another connection sees it: it was committed before.
      List<Future<Long>> seen = new ArrayList<>();
      List<Future<RowSet<Row>>> all = together(writer, 20, i -> {
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
      assertThat(count("SELECT count(DISTINCT xmin::text) AS n FROM marks WHERE id > 1")).isEqualTo(1);
      // The lone statement: one round trip; the transaction of nineteen (BEGIN, batch, COMMIT): one more.
      assertThat(proxy.roundTrips() - roundTrips).isEqualTo(2);
    }
  }

  @Test
  void aStatementThatBreaksAConstraintFailsAloneAndThePoolOfOneKeepsWorking() {
    GroupCommit writer = new GroupCommit(poolOfOne(stores.postgresPort()));
    await(writer.execute(INSERT, Tuple.of(5, "there first")));

    List<Future<RowSet<Row>>> all = together(writer, 11, i -> writer.execute(INSERT, Tuple.of(i == 6 ? 5 : 100 + i, "take " + i)));

    for (int i = 1; i < all.size(); i++) {
      if (i == 6) {
        assertThat(all.get(i).cause()).isInstanceOf(PgException.class);
        assertThat(((PgException) all.get(i).cause()).getSqlState()).as("unique violation").isEqualTo("23505");
      } else {
        assertThat(all.get(i).succeeded()).as("statement %d beside the bad one: %s", i, all.get(i).cause()).isTrue();
      }
    }
    assertThat(writer.retriedAlone()).as("the batch of ten, again one by one").isEqualTo(10);
    assertThat(count("SELECT count(*) AS n FROM marks WHERE id >= 100")).isEqualTo(10);
    assertThat(idleInTransaction()).isZero();
    // The one connection is not left in the aborted transaction: the next batches commit.
    for (int round = 0; round < 3; round++) {
      int base = 1000 * (round + 1);
      List<Future<RowSet<Row>>> next = together(writer, 5, i -> writer.execute(INSERT, Tuple.of(base + i, "later")));
      assertThat(next).allMatch(Future::succeeded);
    }
    assertThat(count("SELECT count(*) AS n FROM marks WHERE id >= 1000")).isEqualTo(15);
    assertThat(writer.retriedAlone()).isEqualTo(10);
  }

  @Test
  void aBatchWhoseCommitFailsRunsAgainAloneAndLeavesNoTransactionOpen() {
    GroupCommit writer = new GroupCommit(poolOfOne(stores.postgresPort()));
    List<Future<RowSet<Row>>> all = together(writer, 9,
        i -> writer.execute(INSERT, Tuple.of(i, i == 4 ? "refused at commit" : "take " + i)));

    assertThat(all.get(4).cause()).isInstanceOf(PgException.class).hasMessageContaining("refused at commit");
    for (int i = 0; i < all.size(); i++) {
      if (i != 4) {
        assertThat(all.get(i).succeeded()).as("statement %d: %s", i, all.get(i).cause()).isTrue();
      }
    }
    assertThat(writer.retriedAlone()).isEqualTo(8);
    assertThat(count("SELECT count(*) AS n FROM marks")).isEqualTo(8);
    assertThat(idleInTransaction()).isZero();
    List<Future<RowSet<Row>>> next = together(writer, 4, i -> writer.execute(INSERT, Tuple.of(100 + i, "later")));
    assertThat(next).allMatch(Future::succeeded);
  }

  /**
   * A parameter the client refuses (a text for an int) fails its batch before it is sent: that
   * aborts nothing, so the other kind of statement commits in the transaction, and only the refused
   * batch's statements run again alone (its good ones commit, the bad one fails).
   */
  @Test
  void aBatchTheClientRefusesRunsAgainAloneAndTheOthersCommitInTheTransaction() {
    GroupCommit writer = new GroupCommit(poolOfOne(stores.postgresPort()));
    await(writer.execute(NOTE, Tuple.of(0, "prepares the statement on the connection")));
    List<Future<RowSet<Row>>> all = together(writer, 9, i -> i % 2 == 1
        ? writer.execute(INSERT, Tuple.of(i, "take " + i))
        : writer.execute(NOTE, Tuple.of(i == 4 ? "four" : i, "note " + i)));

    assertThat(all.get(4).failed()).as("the refused parameter").isTrue();
    for (int i = 0; i < all.size(); i++) {
      if (i != 4) {
        assertThat(all.get(i).succeeded()).as("statement %d: %s", i, all.get(i).cause()).isTrue();
      }
    }
    assertThat(writer.retriedAlone()).as("the notes of the batch (2, 4, 6, 8), not the marks").isEqualTo(4);
    assertThat(count("SELECT count(*) AS n FROM marks")).isEqualTo(4);
    assertThat(count("SELECT count(*) AS n FROM notes WHERE mark > 0")).isEqualTo(3);
    assertThat(idleInTransaction()).isZero();
    Waits.eventually("nothing waits", () -> writer.waiting() == 0);
  }
}
