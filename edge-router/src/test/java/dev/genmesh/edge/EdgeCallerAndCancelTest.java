package dev.genmesh.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.testkit.Waits;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Who calls (API keys → the user id the region's fairness uses) and cancel, in front of one fake region. */
@ExtendWith(VertxExtension.class)
class EdgeCallerAndCancelTest {
  /** SHA-256 of "alice-key"; the keys themselves appear only in this test. */
  private static final String ALICE_SHA = "72ee9d4355ccb9d3a4c9dbf37382e38e75c1b1a225b5bd1f729ee91bbda30c20";

  private Vertx vertx;
  private FakeRegion region;
  private WebClient http;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    region = Waits.await(10, new FakeRegion(vertx, "us-west", "usw").start());
    http = WebClient.create(vertx);
  }

  @Test
  void anonymousCallersAreOneUserWhenNoKeyIsRequired() throws Exception {
    int port = startEdge(false);

    HttpResponse<Buffer> accepted = Waits.await(10, submit(port, null));

    assertThat(accepted.statusCode()).isEqualTo(202);
    assertThat(region.submits).last().satisfies(body -> assertThat(body.getString("user")).isEqualTo("anonymous"));
  }

  @Test
  void aValidKeyNamesTheUserAndAMissingOrWrongOneIs401WithNothingForwarded() throws Exception {
    int port = startEdge(true);

    HttpResponse<Buffer> missing = Waits.await(10, submit(port, null));
    HttpResponse<Buffer> wrong = Waits.await(10, submit(port, "Bearer mallory-key"));
    HttpResponse<Buffer> malformed = Waits.await(10, submit(port, "Basic YWxpY2U6"));

    for (HttpResponse<Buffer> refused : java.util.List.of(missing, wrong, malformed)) {
      assertThat(refused.statusCode()).isEqualTo(401);
      assertThat(refused.bodyAsJsonObject().getString("code")).isEqualTo("unauthorized");
      assertThat(refused.getHeader("WWW-Authenticate")).isEqualTo("Bearer");
    }
    assertThat(region.submits).isEmpty();

    HttpResponse<Buffer> accepted = Waits.await(10, submit(port, "Bearer alice-key"));
    assertThat(accepted.statusCode()).isEqualTo(202);
    assertThat(region.submits).singleElement().satisfies(body -> assertThat(body.getString("user")).isEqualTo("alice"));
  }

  @Test
  void cancelIsRelayedToTheRegionHoldingTheRequest() throws Exception {
    int port = startEdge(false);
    String id = Waits.await(10, submit(port, null)).bodyAsJsonObject().getString("id");

    HttpResponse<Buffer> cancelled = Waits.await(10, http.delete(port, "127.0.0.1", "/v1/generations/" + id).send());
    HttpResponse<Buffer> again = Waits.await(10, http.delete(port, "127.0.0.1", "/v1/generations/" + id).send());
    HttpResponse<Buffer> unknown = Waits.await(10, http.delete(port, "127.0.0.1", "/v1/generations/usw_00000000000000000000000000").send());

    assertThat(cancelled.statusCode()).isEqualTo(200);
    assertThat(cancelled.bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
    assertThat(cancelled.bodyAsJsonObject().getJsonObject("links").getString("self")).isEqualTo("/v1/generations/" + id);
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.bodyAsJsonObject().getString("code")).isEqualTo("not_found");
  }

  private Future<HttpResponse<Buffer>> submit(int port, String authorization) {
    HttpRequest<Buffer> request = http.post(port, "127.0.0.1", "/v1/generations");
    if (authorization != null) {
      request.putHeader("Authorization", authorization);
    }
    return request.sendJsonObject(new JsonObject().put("prompt", "a cat"));
  }

  private int startEdge(boolean requireKey) throws Exception {
    GenmeshConfig defaults = ConfigLoader.defaults();
    GenmeshConfig config = defaults
        .withRegions(Map.of("us-west", defaults.region("us-west").withApiUrl(region.url())))
        .withEdge(new dev.genmesh.config.EdgeConfig("127.0.0.1", 0, 8192, 2000, 3_600_000L, 5_000L, Map.of("us-west", 20L))
            .withApiKeys(requireKey, Map.of("alice", ALICE_SHA)));
    EdgeVerticle edge = new EdgeVerticle(config, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    Waits.await(10, vertx.deployVerticle(edge));
    return edge.actualPort();
  }
}
