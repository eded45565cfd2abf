package dev.genmesh.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.testkit.Waits;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One client floods the edge with malformed requests, some refused by the edge, some by the
 * region (400, 422 and 500 about the request itself), while another client keeps submitting:
 * no region's health changes, nothing spills over, the other client is served throughout.
 */
class MalformedFloodTest {
  private static final int FLOOD = 600;
  /** Refused by the edge: what no store can hold, or JSON no reader agrees on. */
  private static final List<String> EDGE_REFUSES = List.of(
      "{\"prompt\": \"a\\u0000fox\"}",
      "{\"prompt\": \"a\\ud800fox\"}",
      "{\"prompt\": \"a fox\", \"negative_prompt\": \"\\udfff\"}",
      "{\"prompt\": \"a fox\", \"seed\": 1e999999999}",
      "{\"prompt\": \"a fox\", \"steps\": 12.5}",
      "{\"prompt\": \"a fox\", \"prompt\": \"a cat\"}",
      "{\"prompt\": " + "[".repeat(5_000),
      "{\"prompt\": \"a fox\"} trailing",
      "not json at all");
  /** Past the edge, refused by the region as a problem of the request. */
  private static final Map<String, Integer> REGION_REFUSES = Map.of(
      "region-400", 400, "region-422", 422, "region-500", 500);

  private TestEdge edge;

  @BeforeEach
  void start() {
    edge = new TestEdge(config -> config);
    edge.usWest.submitErrorCode = "invalid_value";
    edge.usWest.submitStatusOf = body -> REGION_REFUSES.getOrDefault(body.getString("prompt"), 202);
  }

  @AfterEach
  void stop() {
    edge.close();
  }

  /** Each region's state and when it last changed (accepted submits only refresh {@code checked_at}). */
  private Map<String, String> statesAndSince() {
    JsonObject regions = edge.regions();
    Map<String, String> states = new java.util.TreeMap<>();
    regions.fieldNames().forEach(name -> states.put(name,
        regions.getJsonObject(name).getString("status") + " since " + regions.getJsonObject(name).getString("since")));
    return states;
  }

  @Test
  void aFloodOfMalformedRequestsChangesNoRegionsHealth() {
    Map<String, String> healthBefore = statesAndSince();
    List<Future<HttpResponse<Buffer>>> flood = new ArrayList<>();
    List<Future<HttpResponse<Buffer>>> others = new ArrayList<>();

    for (int i = 0; i < FLOOD; i++) {
      int pick = i % (EDGE_REFUSES.size() + REGION_REFUSES.size());
      String body = pick < EDGE_REFUSES.size() ? EDGE_REFUSES.get(pick)
          : "{\"prompt\": \"" + List.copyOf(REGION_REFUSES.keySet()).get(pick - EDGE_REFUSES.size()) + "\"}";
      HttpRequest<Buffer> request = edge.http.post(edge.port, "127.0.0.1", "/v1/generations");
      if (i % 7 == 0) {
        request.putHeader("Idempotency-Key", "flood-\u00e9-" + i); // not printable ASCII
        body = "{\"prompt\": \"a fox\"}";
      }
      flood.add(request.sendBuffer(Buffer.buffer(body)));
      if (i % 30 == 0) {
        others.add(edge.http.post(edge.port, "127.0.0.1", "/v1/generations")
            .sendBuffer(Buffer.buffer("{\"prompt\": \"a well-formed fox " + i + "\"}")));
      }
    }
    List<HttpResponse<Buffer>> floodAnswers = Waits.await(60, Future.all(flood)).list();
    List<HttpResponse<Buffer>> otherAnswers = Waits.await(60, Future.all(others)).list();

    assertThat(floodAnswers).allSatisfy(answer -> {
      assertThat(answer.statusCode()).isIn(400, 422, 500);
      assertThat(answer.bodyAsJsonObject().getString("code")).isNotBlank();
    });
    assertThat(floodAnswers).filteredOn(answer -> answer.statusCode() >= 500).isNotEmpty();
    assertThat(otherAnswers).allSatisfy(answer -> {
      assertThat(answer.statusCode()).isEqualTo(202);
      assertThat(answer.bodyAsJsonObject().getString("region")).isEqualTo("us-west");
    });
    assertThat(statesAndSince()).as("every region healthy since before the flood").isEqualTo(healthBefore)
        .allSatisfy((region, state) -> assertThat(state).startsWith("healthy since"));
    assertThat(edge.usEast.submits).isEmpty();
    assertThat(edge.euWest.submits).isEmpty();
    assertThat(edge.usWest.created.get()).isEqualTo(others.size());
    assertThat(edge.scrape()).doesNotContain("genmesh_edge_spillover_total{")
        .contains("genmesh_edge_regions_healthy 3.0");
    assertThat(edge.get("/health/ready").statusCode()).isEqualTo(200);
  }
}
