package dev.genmesh.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client's retry rules against an HTTP server that answers submits from a script (the
 * statuses a real edge gives under load are hard to provoke on cue; the client against a real
 * mesh is in the launcher's ClientMeshTest).
 */
class ScriptedEdgeTest {
  private static final String ACCEPTED = new JsonObject().put("id", "usw_1").put("region", "us-west")
      .put("status", "queued").put("links", new JsonObject().put("self", "/v1/generations/usw_1")
          .put("events", "/v1/generations/usw_1/events").put("images", List.of("/v1/images/usw_1/0.png"))).encode();

  private Vertx vertx;
  private HttpServer server;
  private final Deque<Integer> script = new ArrayDeque<>();
  private final List<String> keysSeen = new ArrayList<>();
  private GenmeshClient client;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    server = await(vertx.createHttpServer().requestHandler(this::answer).listen(0, "127.0.0.1"));
    client = GenmeshClient.create(vertx, ClientOptions.of("http://127.0.0.1:" + server.actualPort(), "gmk_test")
        .withRetries(3, Duration.ofMillis(10), Duration.ofMillis(50)));
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    await(vertx.close());
  }

  private void answer(HttpServerRequest request) {
    keysSeen.add(request.getHeader("Idempotency-Key"));
    int status = script.isEmpty() ? 202 : script.poll();
    var response = request.response().setStatusCode(status).putHeader("Content-Type", "application/json");
    switch (status) {
      case 202 -> response.end(ACCEPTED);
      case 429 -> response.putHeader("Retry-After", "0").end("{\"code\":\"rate_limited\",\"message\":\"slow down\"}");
      case 503 -> response.putHeader("Retry-After", "0").end("{\"code\":\"region_unavailable\",\"message\":\"later\"}");
      case 400 -> response.end("{\"code\":\"invalid_field\",\"message\":\"no such field\",\"field\":\"stepz\"}");
      case 401 -> response.end("{\"code\":\"unauthorized\",\"message\":\"unknown key\"}");
      default -> request.connection().close(); // no answer at all
    }
  }

  @Test
  void rateLimitedAndUnavailableAreRetriedWithTheSameIdempotencyKey() throws Exception {
    script.addAll(List.of(429, 503));
    Generation accepted = await(client.submit(GenerationRequest.of("a lighthouse")));
    assertThat(accepted.id()).isEqualTo("usw_1");
    assertThat(keysSeen).hasSize(3).doesNotContainNull();
    assertThat(keysSeen).as("one logical submit, one key").containsOnly(keysSeen.get(0));
    assertThat(keysSeen.get(0)).startsWith("gmc-");
  }

  @Test
  void aLostAnswerIsRetriedAndAnotherSubmitGetsAnotherKey() throws Exception {
    script.add(0);
    await(client.submit(GenerationRequest.of("a lighthouse")));
    await(client.submit(GenerationRequest.of("a lighthouse")));
    assertThat(keysSeen).hasSize(3);
    assertThat(keysSeen.get(0)).isEqualTo(keysSeen.get(1)).isNotEqualTo(keysSeen.get(2));
  }

  @Test
  void otherClientErrorsAreNeverRetriedAndCarryTheEdgesCode() {
    script.add(400);
    assertThatThrownBy(() -> await(client.submit(GenerationRequest.of("x"))))
        .cause().isInstanceOfSatisfying(GenmeshException.class, e -> {
          assertThat(e.status()).isEqualTo(400);
          assertThat(e.code()).isEqualTo("invalid_field");
          assertThat(e.field()).contains("stepz");
        });
    script.add(401);
    assertThatThrownBy(() -> await(client.submit(GenerationRequest.of("x"))))
        .cause().isInstanceOfSatisfying(GenmeshException.class, e -> assertThat(e.isAuth()).isTrue());
    assertThat(keysSeen).as("one call each").hasSize(2);
  }

  @Test
  void givesUpAfterMaxAttemptsWithTheLastAnswer() {
    script.addAll(List.of(503, 503, 503, 503));
    assertThatThrownBy(() -> await(client.submit(GenerationRequest.of("x"))))
        .cause().isInstanceOfSatisfying(GenmeshException.class, e -> assertThat(e.code()).isEqualTo("region_unavailable"));
    assertThat(keysSeen).hasSize(3);
  }

  @Test
  void anEdgeThatIsNotThereIsUnreachable() throws Exception {
    int port = server.actualPort();
    await(server.close());
    try (GenmeshClient lonely = GenmeshClient.create(vertx, ClientOptions.of("http://127.0.0.1:" + port, null)
        .withRetries(2, Duration.ofMillis(10), Duration.ofMillis(10)))) {
      assertThatThrownBy(() -> await(lonely.get("usw_1"))).cause()
          .isInstanceOfSatisfying(GenmeshException.class, e -> {
            assertThat(e.status()).isZero();
            assertThat(e.code()).isEqualTo(GenmeshException.UNREACHABLE);
          });
    }
  }

  private static <T> T await(Future<T> future) throws ExecutionException, InterruptedException, java.util.concurrent.TimeoutException {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
