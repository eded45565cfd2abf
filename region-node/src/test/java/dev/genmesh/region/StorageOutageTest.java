package dev.genmesh.region;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.embedded.EmbeddedStores;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import redis.embedded.RedisServer;

/** What the node does when its stores are not there. */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class StorageOutageTest {
  private static TestStores stores;

  @TempDir
  Path dir;

  @BeforeAll
  static void startStores(TestStores shared) {
    stores = shared;
  }


  /** A Redis of this test's own (to stop under a running node), without persistence. */
  private static RedisServer startRedis(int port, Path dir) throws IOException {
    RedisServer redis = EmbeddedStores.redisServer(dir, port, false);
    redis.start();
    return redis;
  }

  private static JsonObject spec() {
    return new GenerationSpec("a quiet harbour", "", "genmesh-tiny", Tier.FAST, 512, 512, 2, 1, 7.5, 1).toJson();
  }

  private static Map<String, String> checks(HttpResponse<Buffer> ready) {
    Map<String, String> checks = new HashMap<>();
    ready.bodyAsJsonObject().getJsonArray("checks")
        .forEach(c -> checks.put(((JsonObject) c).getString("id"), ((JsonObject) c).getString("status")));
    return checks;
  }

  @Test
  void postgresDownAnswers503WithRetryAfter(Vertx vertx) throws Exception {
    EmbeddedPostgres own = EmbeddedStores.startPostgres(dir.resolve("pg"), EmbeddedStores.freePort(), false);
    NodeUnderTest node;
    String id;
    try {
      GenmeshConfig config = TestRegion.withImages(TestRegion.config(ConfigLoader.defaults(), "127.0.0.1", own.getPort(), "postgres",
          stores.redisUrl(), TestStores.newKeyPrefix()), stores);
      node = await(NodeUnderTest.deploy(vertx, config));
      HttpResponse<Buffer> before = await(node.submit(spec()));
      assertThat(before.statusCode()).isEqualTo(202);
      id = before.bodyAsJsonObject().getString("id");
    } finally {
      own.close();
    }

    HttpResponse<Buffer> submit = await(node.submit(spec()));
    assertThat(submit.statusCode()).isEqualTo(503);
    assertThat(submit.getHeader("Retry-After")).isEqualTo("2");
    assertThat(submit.bodyAsJsonObject().getString("code")).isEqualTo("storage_unavailable");

    HttpResponse<Buffer> status = await(node.get("/regional/v1/generations/" + id));
    assertThat(status.statusCode()).isEqualTo(503);
    assertThat(status.getHeader("Retry-After")).isEqualTo("2");

    HttpResponse<Buffer> ready = await(node.get("/health/ready"));
    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(checks(ready)).containsEntry("postgres", "DOWN").containsEntry("redis", "UP");
    assertThat(await(node.get("/health/live")).statusCode()).isEqualTo(200);
    await(node.undeploy());
  }

  @Test
  void redisDownStillAcceptsKeepsInFlightWorkAndQueuesItWhenRedisReturns(Vertx vertx) throws Exception {
    int redisPort = EmbeddedStores.freePort();
    RedisServer redis = startRedis(redisPort, dir);
    GenmeshConfig config = TestRegion.withImages(TestRegion.config(ConfigLoader.defaults(), "127.0.0.1", stores.postgresPort(),
        stores.createDatabase(), "redis://127.0.0.1:" + redisPort, TestStores.newKeyPrefix()), stores);
    NodeUnderTest node = await(NodeUnderTest.deploy(vertx, config));
    TestWorker worker = new TestWorker(vertx, TestRegion.REGION, "w-" + UUID.randomUUID(), List.of("genmesh-tiny"));
    String running = await(node.submit(spec())).bodyAsJsonObject().getString("id");
    Assignment assignment = await(worker.claim());
    redis.stop();

    HttpResponse<Buffer> accepted = await(node.submit(spec()));
    assertThat(accepted.statusCode()).isEqualTo(202);
    String id = accepted.bodyAsJsonObject().getString("id");
    assertThat(accepted.bodyAsJsonObject().getValue("queue_position")).isNull();
    assertThat(node.meters.get("genmesh.redis.errors").counters()).isNotEmpty();
    HttpResponse<Buffer> ready = await(node.get("/health/ready"));
    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(checks(ready)).containsEntry("postgres", "UP").containsEntry("redis", "DOWN");

    // In-flight work goes on: steps and the result only need the log.
    worker.heartbeat(List.of(running));
    worker.step(assignment, 1, 2, 5.0);
    assertThat(await(worker.result(running, assignment.attempt(), List.of(TestWorker.png(1)))).getString("status"))
        .isEqualTo("completed");

    // Redis back, empty: the running node notices and queues the request from the log.
    RedisServer again = startRedis(redisPort, dir);
    try {
      Waits.eventually("the rebuilt queue to hand out the request", () -> {
        try {
          Assignment next = await(worker.claimOrNull());
          return next != null && next.requestId().equals(id);
        } catch (AssertionError storageStillDown) {
          return false;
        }
      });
      assertThat(node.counter("genmesh.queue.rebuilds", "trigger", "startup")).isEqualTo(1.0);
      // The rebuild queues the id before it counts itself done: the claim may win that race.
      Waits.eventually("the run-time rebuild counted", () ->
          node.meters.find("genmesh.queue.rebuilds").counters().stream().mapToDouble(c -> c.count()).sum() >= 2.0);
      Waits.eventually("ready again", () -> await(node.get("/health/ready")).statusCode() == 200);
      await(node.undeploy());
    } finally {
      again.stop();
    }
  }

  @Test
  void startFailsClearlyWhenPostgresIsUnreachable(Vertx vertx) throws Exception {
    int closed = EmbeddedStores.freePort();
    GenmeshConfig config = TestRegion.withImages(TestRegion.config(ConfigLoader.defaults(), "127.0.0.1", closed, "nowhere",
        stores.redisUrl(), TestStores.newKeyPrefix()), stores);

    Throwable failure = Waits.failure(NodeUnderTest.deploy(vertx, config));
    assertThat(failure).hasMessageContaining("PostgreSQL at 127.0.0.1:" + closed + "/nowhere is unreachable");
  }

  @Test
  void startFailsClearlyWhenRedisIsUnreachable(Vertx vertx) throws Exception {
    int closed = EmbeddedStores.freePort();
    GenmeshConfig config = TestRegion.withImages(TestRegion.config(ConfigLoader.defaults(), "127.0.0.1", stores.postgresPort(),
        stores.createDatabase(), "redis://127.0.0.1:" + closed, TestStores.newKeyPrefix()), stores);

    Throwable failure = Waits.failure(NodeUnderTest.deploy(vertx, config));
    assertThat(failure).hasMessageContaining("Redis at redis://127.0.0.1:" + closed + " is unreachable");
  }
}
