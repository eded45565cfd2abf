package dev.genmesh.region.requests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.region.requests.impl.Migrations;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The request log's group commit on a real PostgreSQL: concurrent writes share transactions, each
 * caller gets its own row, and a row that cannot be written fails alone.
 */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class GroupCommitTest {
  private static TestStores stores;

  @BeforeAll
  static void start(TestStores shared) {
    stores = shared;
  }

  private static GenerationSpec spec(String prompt) {
    return new GenerationSpec(prompt, "", "genmesh-tiny", Tier.FAST, 512, 512, 4, 7, 7.5, 1);
  }

  private record Log(String database, RequestLog log) {}

  private static Log freshLog(Vertx vertx) throws Exception {
    String database = stores.createDatabase();
    Pool pool = stores.pool(vertx, database);
    Waits.await(new Migrations(vertx.createSharedWorkerExecutor("migrations"), pool).apply());
    return new Log(database, new RequestLog(pool));
  }

  /** Runs {@code submits} on one event loop in one go, so that they arrive while the first one is in flight. */
  private static List<Future<RequestLog.Submitted>> submitTogether(Vertx vertx, RequestLog log, List<String> prompts)
      throws Exception {
    Promise<List<Future<RequestLog.Submitted>>> started = Promise.promise();
    vertx.runOnContext(v -> {
      List<Future<RequestLog.Submitted>> all = new ArrayList<>();
      for (int i = 0; i < prompts.size(); i++) {
        String id = "usw_gc" + i;
        all.add(log.submit(id, spec(prompts.get(i)), null, "user-" + i, new JsonObject().put("n", i)));
      }
      started.complete(all);
    });
    List<Future<RequestLog.Submitted>> all = Waits.await(started.future());
    Waits.await(Future.join(all).transform(ar -> Future.succeededFuture()));
    return all;
  }

  @Test
  void concurrentSubmitsShareCommitsAndEachCallerGetsItsOwnRowAndEvent(Vertx vertx) throws Exception {
    Log fresh = freshLog(vertx);
    List<String> prompts = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      prompts.add("a lighthouse, take " + i);
    }
    List<Future<RequestLog.Submitted>> submits = submitTogether(vertx, fresh.log(), prompts);

    for (int i = 0; i < submits.size(); i++) {
      RequestLog.Submitted submitted = submits.get(i).result();
      assertThat(submitted.row().id()).isEqualTo("usw_gc" + i);
      assertThat(submitted.row().generationSpec().prompt()).isEqualTo(prompts.get(i));
      assertThat(submitted.queuedEvent()).isPresent();
      assertThat(submitted.queuedEvent().get().requestId()).isEqualTo("usw_gc" + i);
      assertThat(submitted.queuedEvent().get().data().getInteger("n")).isEqualTo(i);
    }
    // Rows written by one transaction carry its id as xmin: 40 rows from far fewer commits.
    Map<String, Object> row = stores.query(fresh.database(),
        "SELECT count(*) AS rows, count(DISTINCT xmin::text) AS commits FROM requests").get(0);
    assertThat((Long) row.get("rows")).isEqualTo(40L);
    assertThat((Long) row.get("commits")).isLessThan(10L);
    assertThat(fresh.log().writes().retriedAlone()).isZero();
  }

  /**
   * The linger: a statement that finds the writer idle commits alone at once; one that waited for it
   * waits a little more after that commit, and a statement sent meanwhile (here 1 ms after the first
   * commit, on the same event loop as the linger's 20 ms timer, so always before it ends) shares its
   * transaction. Without the linger the waiting one would have started alone at the first commit.
   */
  @Test
  void afterACommitOthersWaitedForTheNextOneLingersForStatementsSentMeanwhile(Vertx vertx) throws Exception {
    String database = stores.createDatabase();
    Pool pool = stores.pool(vertx, database);
    Waits.await(new Migrations(vertx.createSharedWorkerExecutor("migrations"), pool).apply());
    RequestLog log = new RequestLog(pool, 20_000);
    Promise<List<Future<RequestLog.Submitted>>> started = Promise.promise();
    vertx.runOnContext(v -> {
      List<Future<RequestLog.Submitted>> all = new ArrayList<>();
      Promise<RequestLog.Submitted> late = Promise.promise();
      all.add(log.submit("usw_idle", spec("a lighthouse"), null, "u", new JsonObject())
          .onSuccess(first -> vertx.setTimer(1, t -> log.submit("usw_late", spec("a harbour"), null, "u", new JsonObject())
              .onComplete(late))));
      all.add(log.submit("usw_waited", spec("a pier"), null, "u", new JsonObject()));
      all.add(late.future());
      started.complete(all);
    });
    for (Future<RequestLog.Submitted> submit : Waits.await(started.future())) {
      Waits.await(submit);
    }
    List<Map<String, Object>> rows = stores.query(database, "SELECT id, xmin::text AS tx FROM requests ORDER BY id");
    Map<String, Object> txOf = new java.util.HashMap<>();
    rows.forEach(row -> txOf.put((String) row.get("id"), row.get("tx")));
    assertThat(txOf).hasSize(3);
    assertThat(txOf.get("usw_waited")).as("the waiting statement shares the late one's commit").isEqualTo(txOf.get("usw_late"));
    assertThat(txOf.get("usw_idle")).isNotEqualTo(txOf.get("usw_waited"));
    assertThat(log.writes().transactions()).isEqualTo(2);
    assertThat(log.writes().alone("submit")).as("only the first, which found the writer idle").isEqualTo(1);
    assertThat(log.writes().lingered()).isEqualTo(1);
  }

  @Test
  void twoSubmitsWithOneIdempotencyKeyInOneBatchMakeOneRowAndBothGetIt(Vertx vertx) throws Exception {
    Log fresh = freshLog(vertx);
    Promise<List<Future<RequestLog.Submitted>>> started = Promise.promise();
    vertx.runOnContext(v -> {
      List<Future<RequestLog.Submitted>> all = new ArrayList<>();
      all.add(fresh.log().submit("usw_first", spec("a lighthouse"), "occupies-the-writer", "u", new JsonObject()));
      all.add(fresh.log().submit("usw_a", spec("a lighthouse"), "same-key", "u", new JsonObject()));
      all.add(fresh.log().submit("usw_b", spec("a lighthouse"), "same-key", "u", new JsonObject()));
      started.complete(all);
    });
    List<Future<RequestLog.Submitted>> all = Waits.await(started.future());
    RequestLog.Submitted a = Waits.await(all.get(1));
    RequestLog.Submitted b = Waits.await(all.get(2));
    assertThat(a.created()).isTrue();
    assertThat(b.created()).as("the second with the key").isFalse();
    assertThat(b.row().id()).isEqualTo("usw_a");
    assertThat(stores.query(fresh.database(), "SELECT count(*) AS n FROM requests WHERE idempotency_key = 'same-key'")
        .get(0).get("n")).isEqualTo(1L);
  }

  @Test
  void aRowThatCannotBeWrittenFailsAloneAndItsBatchNeighboursCommit(Vertx vertx) throws Exception {
    Log fresh = freshLog(vertx);
    List<String> prompts = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      // PostgreSQL's jsonb refuses a NUL character: this row's INSERT fails, the others are fine.
      prompts.add(i == 11 ? "a lighthouse \u0000" : "a lighthouse, take " + i);
    }
    List<Future<RequestLog.Submitted>> submits = submitTogether(vertx, fresh.log(), prompts);

    for (int i = 0; i < submits.size(); i++) {
      if (i == 11) {
        assertThat(submits.get(i).failed()).as("the bad row").isTrue();
      } else {
        assertThat(submits.get(i).succeeded()).as("row %d beside the bad one: %s", i, submits.get(i).cause()).isTrue();
        Optional<RequestRow> stored = Waits.await(fresh.log().find("usw_gc" + i));
        assertThat(stored).as("row %d committed", i).isPresent();
      }
    }
    assertThat(Waits.await(fresh.log().find("usw_gc11"))).isEmpty();
    // The bad row shared a batch that failed; its neighbours were written again one by one.
    assertThat(fresh.log().writes().retriedAlone()).isGreaterThan(1);
  }
}
