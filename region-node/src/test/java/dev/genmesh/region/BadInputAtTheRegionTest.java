package dev.genmesh.region;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.RequestHash;
import dev.genmesh.protocol.Tier;
import dev.genmesh.region.api.impl.ApiFailures;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A request's own bad data is the caller's error at the regional API (4xx JSON), never a 500
 * or 503 that the edge would count against the region; a reused idempotency key with another
 * body is 422. On real PostgreSQL and Redis.
 */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class BadInputAtTheRegionTest {
  private static TestStores stores;

  private String database;
  private NodeUnderTest node;
  private Pool pool;

  @BeforeAll
  static void startStores(TestStores shared) {
    stores = shared;
  }

  @BeforeEach
  void deploy(Vertx vertx) {
    database = stores.createDatabase();
    node = await(NodeUnderTest.deploy(vertx, TestRegion.config(stores, database, TestStores.newKeyPrefix())));
    pool = stores.pool(vertx, database);
  }

  @AfterEach
  void undeploy() {
    await(pool.close());
    await(node.undeploy());
  }

  private static JsonObject spec(String prompt) {
    return new GenerationSpec(prompt, "", "genmesh-tiny", Tier.FAST, 512, 512, 3, 42, 7.5, 1).toJson();
  }

  @Test
  void textTheLogCannotHoldIs400InvalidValueAndWritesNothing() {
    JsonObject[] bad = {
      spec("a\u0000fox"), spec("a\ud800fox"), spec("p").put("negative_prompt", "\udfff"),
      spec("p").put("user", "ann\u0000"), spec("p").put("idempotency_key", "k\ud83e"),
    };
    String[] fields = {"prompt", "prompt", "negative_prompt", "user", "idempotency_key"};

    for (int i = 0; i < bad.length; i++) {
      HttpResponse<Buffer> answer = await(node.submit(bad[i]));
      assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(400);
      assertThat(answer.bodyAsJsonObject().getString("code")).isEqualTo("invalid_value");
      assertThat(answer.bodyAsJsonObject().getString("field")).isEqualTo(fields[i]);
    }
    assertThat(stores.query(database, "SELECT id FROM requests")).isEmpty();
    assertThat(await(node.get("/health/ready")).statusCode()).isEqualTo(200);
    assertThat(node.counter("genmesh.errors", "op", "submit")).as("not a system error").isZero();
  }

  @Test
  void aValuePostgresRefusesIsARequestErrorNotAStoreFailure() {
    // What the regional API's own checks now catch first: the insert that failed with a 500 before.
    RequestLog log = new RequestLog(pool);
    GenerationSpec nul = GenerationSpec.fromJson(spec("a\u0000fox"));

    Throwable refused = Waits.failure(log.submit("usw_nul", nul, null, "ann", new JsonObject()));

    assertThat(refused).isInstanceOf(PgException.class);
    assertThat(((PgException) refused).getSqlState()).startsWith("22");
    ApiError error = ApiFailures.refusedValue(refused);
    assertThat(error.code()).isEqualTo(ErrorCode.INVALID_VALUE);
    assertThat(error.httpStatus()).isEqualTo(400);
    assertThat(error.message()).contains("SQLSTATE 22");
    assertThat(ApiFailures.refusedValue(new PgException("gone", "FATAL", "08006", null))).isNull();
    assertThat(ApiFailures.refusedValue(new PgException("dup", "ERROR", "23505", null))).isNull();
    assertThat(ApiFailures.refusedValue(new IllegalStateException("no connection"))).isNull();
  }

  @Test
  void aReusedIdempotencyKeyWithAnotherBodyIs422AndTheSameBodyGetsTheFirstRequest() {
    JsonObject first = spec("a red fox").put("idempotency_key", "order-1").put("user", "ann");

    String id = await(node.submit(first)).bodyAsJsonObject().getString("id");
    HttpResponse<Buffer> retried = await(node.submit(first.copy()));
    HttpResponse<Buffer> otherBody = await(node.submit(first.copy().put("prompt", "a blue fox")));
    HttpResponse<Buffer> otherCaller = await(node.submit(first.copy().put("user", "bob")));

    assertThat(retried.statusCode()).isEqualTo(202);
    assertThat(retried.bodyAsJsonObject().getString("id")).isEqualTo(id);
    for (HttpResponse<Buffer> reused : java.util.List.of(otherBody, otherCaller)) {
      assertThat(reused.statusCode()).as(reused.bodyAsString()).isEqualTo(422);
      assertThat(reused.bodyAsJsonObject().getString("code")).isEqualTo("idempotency_key_reused");
      assertThat(reused.bodyAsJsonObject().getString("field")).isEqualTo("idempotency_key");
    }
    assertThat(stores.query(database, "SELECT id FROM requests")).hasSize(1);
  }

  @Test
  void theEdgesHashOfTheClientBodyDecidesWhenItIsGiven() {
    // The edge hashes the body as the client sent it: a retry without a seed gets another random seed.
    String hash = RequestHash.of("ann", new JsonObject().put("prompt", "a red fox"));
    JsonObject first = spec("a red fox").put("seed", 1).put("idempotency_key", "order-2").put("user", "ann")
        .put("request_hash", hash);

    String id = await(node.submit(first)).bodyAsJsonObject().getString("id");
    HttpResponse<Buffer> sameBodyOtherSeed = await(node.submit(first.copy().put("seed", 2)));
    HttpResponse<Buffer> otherHash = await(node.submit(first.copy().put("request_hash", "0".repeat(64))));
    HttpResponse<Buffer> malformed = await(node.submit(first.copy().put("request_hash", "not-a-hash")));

    assertThat(sameBodyOtherSeed.statusCode()).isEqualTo(202);
    assertThat(sameBodyOtherSeed.bodyAsJsonObject().getString("id")).isEqualTo(id);
    assertThat(otherHash.statusCode()).isEqualTo(422);
    assertThat(malformed.statusCode()).isEqualTo(400);
    assertThat(malformed.bodyAsJsonObject().getString("field")).isEqualTo("request_hash");
  }

  @Test
  void aRowFromBeforeHashesWereKeptStillAnswersItsKey() {
    JsonObject first = spec("a red fox").put("idempotency_key", "order-3");
    String id = await(node.submit(first)).bodyAsJsonObject().getString("id");
    await(pool.query("UPDATE requests SET request_hash = NULL").execute());

    HttpResponse<Buffer> other = await(node.submit(first.copy().put("prompt", "cannot be told apart")));

    assertThat(other.statusCode()).isEqualTo(202);
    assertThat(other.bodyAsJsonObject().getString("id")).isEqualTo(id);
  }
}
