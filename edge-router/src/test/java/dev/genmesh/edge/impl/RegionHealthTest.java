package dev.genmesh.edge.impl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.edge.regions.impl.HealthState;
import dev.genmesh.edge.regions.impl.RegionClient;
import dev.genmesh.edge.regions.impl.RegionHealth;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.WebSocketClient;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class RegionHealthTest {
  private static final Instant T0 = Instant.parse("2026-11-27T10:00:00Z");

  private volatile int readyStatus = 200;
  private Instant now = T0;
  private RegionHealth health;

  @BeforeEach
  void setUp(Vertx vertx) throws Exception {
    HttpServer region = vertx.createHttpServer()
        .requestHandler(request -> request.response().setStatusCode(request.path().equals("/health/ready") ? readyStatus : 404).end())
        .listen(0, "127.0.0.1").await(5, TimeUnit.SECONDS);
    HttpServer gone = vertx.createHttpServer().requestHandler(request -> {}).listen(0, "127.0.0.1").await(5, TimeUnit.SECONDS);
    int gonePort = gone.actualPort();
    gone.close().await(5, TimeUnit.SECONDS);

    GenmeshConfig config = ConfigLoader.defaults();
    WebClient web = WebClient.create(vertx);
    WebSocketClient webSockets = vertx.createWebSocketClient();
    Map<String, RegionClient> clients = Map.of(
        "us-west", new RegionClient(config.region("us-west").withApiUrl("http://127.0.0.1:" + region.actualPort()), web, webSockets, 5000),
        "us-east", new RegionClient(config.region("us-east").withApiUrl("http://127.0.0.1:" + gonePort), web, webSockets, 5000));
    Clock clock = new Clock() {
      @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
      @Override public Clock withZone(java.time.ZoneId zone) { return this; }
      @Override public Instant instant() { return now; }
    };
    health = new RegionHealth(vertx, clients, 3_600_000L, 5000, clock);
  }

  @Test
  void startsUnknownThenFollowsEachPoll() throws Exception {
    assertThat(health.snapshot()).containsOnly(Map.entry("us-west", HealthState.UNKNOWN), Map.entry("us-east", HealthState.UNKNOWN));

    health.pollAll().await(5, TimeUnit.SECONDS);
    assertThat(health.state("us-west")).isEqualTo(HealthState.HEALTHY);
    assertThat(health.state("us-east")).as("nothing listens there").isEqualTo(HealthState.UNHEALTHY);
    assertThat(health.healthyCount()).isEqualTo(1);

    now = T0.plusSeconds(5);
    readyStatus = 503;
    health.pollAll().await(5, TimeUnit.SECONDS);
    assertThat(health.state("us-west")).isEqualTo(HealthState.UNHEALTHY);
    assertThat(health.toJson().getJsonObject("us-west").getString("since")).isEqualTo(T0.plusSeconds(5).toString());
    assertThat(health.toJson().getJsonObject("us-west").getString("reason")).contains("503");

    now = T0.plusSeconds(9);
    readyStatus = 200;
    health.pollAll().await(5, TimeUnit.SECONDS);
    assertThat(health.state("us-west")).isEqualTo(HealthState.HEALTHY);
    assertThat(health.toJson().getJsonObject("us-west").getString("since")).isEqualTo(T0.plusSeconds(9).toString());
  }

  @Test
  void aFailedSubmitMarksARegionUnhealthyAtOnce() throws Exception {
    health.pollAll().await(5, TimeUnit.SECONDS);
    now = T0.plusSeconds(1);

    health.markUnhealthy("us-west", "submit failed: answered 503");

    assertThat(health.state("us-west")).isEqualTo(HealthState.UNHEALTHY);
    assertThat(health.healthyCount()).isZero();
    assertThat(health.toJson().getJsonObject("us-west").getString("since")).isEqualTo(T0.plusSeconds(1).toString());
  }

  @Test
  void keepsTheSinceTimeWhileTheStateHolds() throws Exception {
    health.pollAll().await(5, TimeUnit.SECONDS);
    now = T0.plusSeconds(30);

    health.pollAll().await(5, TimeUnit.SECONDS);

    assertThat(health.toJson().getJsonObject("us-west").getString("since")).isEqualTo(T0.toString());
    assertThat(health.toJson().getJsonObject("us-west").getString("checked_at")).isEqualTo(T0.plusSeconds(30).toString());
  }
}
