package dev.genmesh.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.EdgeLimits;
import dev.genmesh.edge.submit.impl.RequestValidator;
import dev.genmesh.protocol.RequestHash;
import dev.genmesh.protocol.StorableText;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Fuzzes the edge over raw HTTP ({@link FuzzCases}: valid submits in odd spellings, one odd
 * field, malformed JSON, odd Unicode, huge bodies, odd headers) in front of three fake regions,
 * and checks every answer: a 202 with a view for valid input, else a 4xx JSON error with a
 * {@code code}; nothing created in any region for a rejected request, and only storable values
 * forwarded for an accepted one; every region still healthy (never since changed), nothing
 * spilled over, the edge ready.
 *
 * <p>200 cases by default, a few seconds. A long run, and the replay of a failure (its seed is in
 * the message):
 * {@code ./mvnw -B -o -pl edge-router -am test -Dtest=EdgeFuzzTest -Dgenmesh.fuzz.cases=20000 -Dgenmesh.fuzz.seed=N}
 */
class EdgeFuzzTest {
  static final String CASES = "genmesh.fuzz.cases";
  static final String SEED = "genmesh.fuzz.seed";
  private static final int MAX_BODY = 64 * 1024;

  private TestEdge edge;

  @BeforeEach
  void start() {
    // Short body deadline: a case whose body ends early is answered 408 in a quarter of a second.
    edge = new TestEdge(config -> new dev.genmesh.config.EdgeConfig(config.host(), config.port(), MAX_BODY,
        config.maxPromptChars(), config.regionHealthIntervalMs(), config.regionTimeoutMs(), config.latencyMs(), false,
        Map.of(), new EdgeLimits(10_000, 250, 30_000, 32)));
  }

  @AfterEach
  void stop() {
    edge.close();
  }

  @Test
  void noInputGetsPastTheEdgeUnlessStorableAndNoneHurtsARegion() throws Exception {
    int cases = Integer.getInteger(CASES, 200);
    long seed = Long.getLong(SEED, new Random().nextLong());
    FuzzCases generator = new FuzzCases(new Random(seed), ConfigLoader.defaults(), MAX_BODY);
    Map<String, String> healthBefore = statesAndSince();
    int accepted = 0;
    Map<String, Integer> answers = new java.util.TreeMap<>();

    for (int i = 0; i < cases; i++) {
      FuzzCases.Case fuzz = generator.next();
      String where = "case " + i + " (" + fuzz.what() + ") of -D" + SEED + "=" + seed;
      int createdBefore = edge.createdInRegions();
      int submitsBefore = edge.usWest.submits.size();
      RawHttp.Response answer;
      try (RawHttp http = new RawHttp(edge.port, 10_000)) {
        answer = http.send(fuzz.request()).read();
      }
      answers.merge(fuzz.kind() + " " + answer.status(), 1, Integer::sum);

      if (answer.status() == 202) {
        accepted++;
        assertThat(fuzz.expect()).as(where).isNotEqualTo(FuzzCases.Expect.REJECT);
        assertThat(new JsonObject(answer.text()).getString("id")).as(where).startsWith("usw_");
        assertThat(edge.createdInRegions()).as(where).isEqualTo(createdBefore + 1);
        assertStorable(edge.usWest.submits.get(edge.usWest.submits.size() - 1), where);
      } else {
        assertThat(answer.status()).as("%s answered %s", where, answer.text()).isBetween(400, 499);
        assertThat(fuzz.expect()).as("%s answered %s", where, answer.text()).isNotEqualTo(FuzzCases.Expect.ACCEPT);
        assertThat(answer.headers().get("content-type")).as(where).startsWith("application/json");
        assertThat(new JsonObject(answer.text()).getValue("code")).as(where).isInstanceOf(String.class);
        assertThat(edge.createdInRegions()).as("%s: nothing created", where).isEqualTo(createdBefore);
        assertThat(edge.usWest.submits).as("%s: nothing forwarded", where).hasSize(submitsBefore);
      }
      if (i % 25 == 0 || i == cases - 1) {
        assertThat(statesAndSince()).as(where).isEqualTo(healthBefore);
      }
    }

    LoggerFactory.getLogger(EdgeFuzzTest.class).info("fuzzed the edge with {} cases (-D{}={}): {} accepted, {} refused; by kind {}",
        cases, SEED, seed, accepted, cases - accepted, answers);
    assertThat(accepted).as("some valid cases among %d (seed %d)", cases, seed).isPositive();
    assertThat(edge.usEast.submits).isEmpty();
    assertThat(edge.euWest.submits).isEmpty();
    assertThat(edge.scrape()).doesNotContain("genmesh_edge_spillover_total{").contains("genmesh_edge_regions_healthy 3.0");
    assertThat(edge.get("/health/ready").statusCode()).isEqualTo(200);
    assertThat(edge.get("/health/live").statusCode()).isEqualTo(200);
  }

  /** What the edge forwarded: only text every store holds, numbers in range, a well-formed hash. */
  private static void assertStorable(JsonObject forwarded, String where) {
    forwarded.forEach(field -> {
      Object value = field.getValue();
      if (value instanceof String text) {
        assertThat(StorableText.problem(text)).as("%s: %s", where, field.getKey()).isNull();
      } else if (value instanceof JsonObject || value instanceof JsonArray) {
        fail("%s: %s is not flat", where, field.getKey());
      }
    });
    assertThat(forwarded.getLong("seed")).as(where).isBetween(0L, RequestValidator.MAX_SEED);
    assertThat(forwarded.getInteger("width")).as(where).isBetween(64, 4096);
    if (forwarded.containsKey("idempotency_key")) {
      assertThat(RequestHash.isWellFormed(forwarded.getString("request_hash"))).as(where).isTrue();
    }
  }

  private Map<String, String> statesAndSince() {
    JsonObject regions = edge.regions();
    Map<String, String> states = new java.util.TreeMap<>();
    regions.fieldNames().forEach(name -> states.put(name,
        regions.getJsonObject(name).getString("status") + " since " + regions.getJsonObject(name).getString("since")));
    return states;
  }
}
