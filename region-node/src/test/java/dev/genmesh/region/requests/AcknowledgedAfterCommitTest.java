package dev.genmesh.region.requests;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.region.NodeUnderTest;
import dev.genmesh.region.TestRegion;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * I1 under group commit, through the regional API of a real node: a 202 never comes before the
 * commit of the transaction that holds the request, and a request whose commit fails fails alone.
 * A deferred trigger makes PostgreSQL wait at COMMIT time on advisory locks the test holds (lock 1
 * for the request whose prompt starts with "first", lock 2 for the others) and refuses to commit
 * a "poison" prompt.
 */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class AcknowledgedAfterCommitTest {
  private static final String HOLD_AT_COMMIT = """
      CREATE FUNCTION test_hold_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.spec->>'prompt' LIKE 'first%' THEN
          PERFORM pg_advisory_xact_lock_shared(1);
        ELSE
          PERFORM pg_advisory_xact_lock_shared(2);
        END IF;
        IF NEW.spec->>'prompt' LIKE '%poison%' THEN
          RAISE EXCEPTION 'poison request %', NEW.id;
        END IF;
        RETURN NULL;
      END $$;
      CREATE CONSTRAINT TRIGGER test_hold_commit AFTER INSERT ON requests DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION test_hold_commit();
      """;
  private TestStores stores;

  private Vertx vertx;
  private String database;
  private NodeUnderTest node;
  private Pool pool;
  private SqlConnection gate;
  /** Enough connections for every submit of a test at once (the default pool has 5). */
  private WebClient http;

  @BeforeEach
  void deploy(Vertx vertx, TestStores stores) {
    this.vertx = vertx;
    this.stores = stores;
    TestRegion.Fresh region = TestRegion.fresh(stores);
    database = region.database();
    node = await(NodeUnderTest.deploy(vertx, region.config()));
    pool = stores.pool(vertx, database);
    await(pool.query(HOLD_AT_COMMIT).execute());
    http = WebClient.create(vertx, new WebClientOptions(), new PoolOptions().setHttp1MaxSize(32));
    gate = await(pool.getConnection());
    await(gate.query("SELECT pg_advisory_lock(1), pg_advisory_lock(2)").execute());
  }

  @AfterEach
  void undeploy() {
    await(gate.query("SELECT pg_advisory_unlock_all()").execute());
    await(gate.close());
    http.close();
    await(pool.close());
    await(node.undeploy());
  }

  private Future<HttpResponse<Buffer>> submit(String prompt) {
    return http.post(node.port(), "127.0.0.1", "/regional/v1/generations")
        .sendJsonObject(new GenerationSpec(prompt, "", "genmesh-tiny", Tier.FAST, 512, 512, 3, 42, 7.5, 1).toJson());
  }

  private long committedRows() {
    return (Long) stores.query(database, "SELECT count(*) AS n FROM requests").get(0).get("n");
  }

  private long blockedAtCommit() {
    return (Long) stores.query(database,
        "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").get(0).get("n");
  }

  private double waitingStatements() {
    return node.meters.get(RegionMetrics.LOG_WAITING).gauge().value();
  }

  /**
   * The first request's commit waits on lock 1 and holds the log's writer; the next nine pile up
   * behind it. Lock 1 released, the nine go in one transaction whose commit waits on lock 2: none of
   * them may be answered, nor visible, until it commits.
   */
  @Test
  void noSubmitIsAcknowledgedBeforeTheCommitThatHoldsIt() {
    Future<HttpResponse<Buffer>> first = submit("first: a lighthouse");
    Waits.eventually("the first commit waits on its lock", () -> blockedAtCommit() == 1);
    List<Future<HttpResponse<Buffer>>> batch = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      batch.add(submit("a lighthouse, take " + i));
    }
    Waits.eventually("nine submits wait for the next transaction", () -> waitingStatements() == 9);

    await(gate.query("SELECT pg_advisory_unlock(1)").execute());
    assertThat(await(first).statusCode()).isEqualTo(202);
    Waits.eventually("the batch's commit waits on its lock", () -> blockedAtCommit() >= 1);
    // Statements executed, commit pending: not one 202, not one row visible to anyone else.
    long until = System.currentTimeMillis() + 500;
    while (System.currentTimeMillis() < until) {
      assertThat(batch).noneMatch(Future::isComplete);
      assertThat(committedRows()).isEqualTo(1);
    }

    await(gate.query("SELECT pg_advisory_unlock(2)").execute());
    for (Future<HttpResponse<Buffer>> response : batch) {
      assertThat(await(response).statusCode()).isEqualTo(202);
    }
    assertThat(committedRows()).isEqualTo(10);
    // The nine shared one commit (rows written by one transaction carry its id as xmin).
    assertThat(stores.query(database, "SELECT count(DISTINCT xmin::text) AS n FROM requests WHERE spec->>'prompt' LIKE 'a %'")
        .get(0).get("n")).isEqualTo(1L);
  }

  /** A request that cannot commit shares a batch with nine others: it fails, they are acknowledged and stored. */
  @Test
  void aRequestThatCannotCommitFailsAloneAndItsBatchNeighboursAreAcknowledged() {
    await(gate.query("SELECT pg_advisory_unlock(2)").execute()); // only the first request waits
    Future<HttpResponse<Buffer>> first = submit("first: a lighthouse");
    Waits.eventually("the first commit waits on its lock", () -> blockedAtCommit() == 1);
    List<Future<HttpResponse<Buffer>>> batch = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      batch.add(submit(i == 4 ? "a poison lighthouse" : "a lighthouse, take " + i));
    }
    Waits.eventually("ten submits wait for the next transaction", () -> waitingStatements() == 10);

    await(gate.query("SELECT pg_advisory_unlock(1)").execute());
    assertThat(await(first).statusCode()).isEqualTo(202);
    for (int i = 0; i < batch.size(); i++) {
      HttpResponse<Buffer> response = await(batch.get(i));
      if (i == 4) {
        assertThat(response.statusCode()).as(response.bodyAsString()).isGreaterThanOrEqualTo(500);
      } else {
        assertThat(response.statusCode()).as("request %d beside the poison: %s", i, response.bodyAsString())
            .isEqualTo(202);
        String id = response.bodyAsJsonObject().getString("id");
        assertThat(stores.query(database, "SELECT status FROM requests WHERE id = ?", id)).hasSize(1);
      }
    }
    assertThat(committedRows()).isEqualTo(10);
    assertThat(node.meters.get(RegionMetrics.LOG_RETRIED_ALONE).functionCounter().count()).isEqualTo(10.0);
  }
}
