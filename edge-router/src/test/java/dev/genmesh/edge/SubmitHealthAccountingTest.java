package dev.genmesh.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Which region answers count against the region and spill the request over: only no answer,
 * a timeout, 502/503/504 and an unusable 2xx. An answer about the request itself is final.
 */
class SubmitHealthAccountingTest {
  private TestEdge edge;

  @BeforeEach
  void start() {
    edge = new TestEdge(config -> config);
  }

  @AfterEach
  void stop() {
    edge.close();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(ints = {400, 409, 422, 500, 501})
  void anAnswerAboutTheRequestIsFinalAndLeavesTheRegionHealthy(int status) {
    edge.usWest.submitStatus = status;
    edge.usWest.submitErrorCode = "invalid_value";
    JsonObject before = edge.regions();

    HttpResponse<Buffer> answer = edge.post("{\"prompt\": \"a fox\"}", Map.of());

    assertThat(answer.statusCode()).isEqualTo(status);
    assertThat(answer.bodyAsJsonObject().getString("code")).isEqualTo("invalid_value");
    assertThat(edge.usWest.submits).hasSize(1);
    assertThat(edge.usEast.submits).isEmpty();
    assertThat(edge.euWest.submits).isEmpty();
    assertThat(edge.regions()).as("health unchanged, since included").isEqualTo(before);
    assertThat(edge.scrape()).doesNotContain("genmesh_edge_spillover_total{");
  }

  @Test
  void aRegionErrorWithoutAJsonBodyStillReachesTheClientAsJson() {
    edge.usWest.submitStatus = 500;
    edge.usWest.submitErrorCode = null;

    HttpResponse<Buffer> answer = edge.post("{\"prompt\": \"a fox\"}", Map.of());

    assertThat(answer.statusCode()).isEqualTo(500);
    assertThat(answer.getHeader("Content-Type")).startsWith("application/json");
    assertThat(answer.bodyAsJsonObject().getString("code")).isEqualTo("region_500");
    assertThat(edge.regionStates().get("us-west")).isEqualTo("healthy");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(ints = {502, 503, 504, 200})
  void aRegionThatCannotTakeRequestsSpillsOverAndIsMarkedUnhealthy(int status) {
    edge.usWest.submitStatus = status;

    HttpResponse<Buffer> answer = edge.post("{\"prompt\": \"a fox\"}", Map.of());

    assertThat(answer.statusCode()).isEqualTo(202);
    assertThat(answer.bodyAsJsonObject().getString("region")).isEqualTo("us-east");
    assertThat(edge.regionStates()).containsEntry("us-west", "unhealthy").containsEntry("us-east", "healthy");
    assertThat(edge.scrape()).contains("genmesh_edge_spillover_total{from=\"us-west\",to=\"us-east\"} 1.0");
  }

  @Test
  void aKeyedSubmitCarriesTheHashOfItsBodyAndCallerToTheRegion() {
    edge.post("{\"prompt\": \"a fox\", \"steps\": 20}", Map.of("Idempotency-Key", "k-1"));
    edge.post("{\"steps\": 2e1, \"prompt\": \"a fox\"}", Map.of("Idempotency-Key", "k-1"));
    edge.post("{\"prompt\": \"a fox\", \"steps\": 21}", Map.of("Idempotency-Key", "k-1"));
    edge.post("{\"prompt\": \"a fox\"}", Map.of());

    assertThat(edge.usWest.submits).hasSize(4);
    String first = edge.usWest.submits.get(0).getString("request_hash");
    assertThat(first).matches("[0-9a-f]{64}");
    assertThat(edge.usWest.submits.get(1).getString("request_hash")).as("same JSON value").isEqualTo(first);
    assertThat(edge.usWest.submits.get(2).getString("request_hash")).as("another body").isNotEqualTo(first);
    assertThat(edge.usWest.submits.get(3).containsKey("request_hash")).as("no key, no hash").isFalse();
  }

  @Test
  void aRegionsReusedKeyAnswerReachesTheClient() {
    edge.usWest.submitStatusOf = body -> body.getString("prompt").equals("another body") ? 422 : 202;
    edge.usWest.submitErrorCode = "idempotency_key_reused";

    assertThat(edge.post("{\"prompt\": \"a fox\"}", Map.of("Idempotency-Key", "k-2")).statusCode()).isEqualTo(202);
    HttpResponse<Buffer> reused = edge.post("{\"prompt\": \"another body\"}", Map.of("Idempotency-Key", "k-2"));

    assertThat(reused.statusCode()).isEqualTo(422);
    assertThat(reused.bodyAsJsonObject().getString("code")).isEqualTo("idempotency_key_reused");
    assertThat(edge.usEast.submits).isEmpty();
    assertThat(edge.regionStates().values()).containsOnly("healthy");
  }
}
