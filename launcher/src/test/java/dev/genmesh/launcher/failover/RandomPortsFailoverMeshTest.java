package dev.genmesh.launcher.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.launcher.Mesh;
import dev.genmesh.testkit.Waits;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code genmesh up --random-ports} with failover on: every listener binds port 0, so no region
 * knows where the others (and the edge) listen when it starts; the mesh tells each participant
 * once all are bound. Before that, every region stayed fenced for good (no observer reachable, no
 * vote), and its readiness down. Short failover timings (detect 4 s, fence 2 s, polls every 250 ms).
 */
class RandomPortsFailoverMeshTest {
  @TempDir Path dataDir;
  private Mesh mesh;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

  @AfterEach
  void stop() {
    if (mesh != null) {
      mesh.close();
    }
  }

  @Test
  void regionsOnRandomPortsFindEachOtherUnfenceAndHoldEachOtherOk() {
    GenmeshConfig config = ConfigLoader.load(null, Map.of(
        "GENMESH_FAILOVER__ENABLED", "true",
        "GENMESH_FAILOVER__DETECT_AFTER_MS", "4000",
        "GENMESH_FAILOVER__FENCE_AFTER_MS", "2000",
        "GENMESH_FAILOVER__FAILBACK_AFTER_MS", "5000",
        "GENMESH_FAILOVER__POLL_INTERVAL_MS", "250",
        "GENMESH_FAILOVER__POLL_TIMEOUT_MS", "1500",
        "GENMESH_WORKER__CLAIM_POLL_MS", "200",
        "GENMESH_EDGE__REGION_HEALTH_INTERVAL_MS", "500"));
    mesh = Mesh.start(config, new Mesh.Options(dataDir, true, false, "127.0.0.1"), step -> {});

    GenmeshConfig running = mesh.config();
    List<String> regions = List.copyOf(running.regions().keySet());
    assertThat(regions).hasSize(3);
    for (RegionConfig region : running.regions().values()) {
      assertThat(region.httpPort()).as("%s bound a port of its own", region.name()).isPositive();
    }
    assertThat(running.failover().edgeUrl()).endsWith(":" + mesh.edgePort());
    for (RegionConfig region : running.regions().values()) {
      String base = region.effectiveApiUrl();
      Waits.eventually(60, () -> !get(base + "/failover/opinions").getBoolean("fenced", true),
          region.name() + " to unfence (a majority of its observers reached it and hold it ok)");
      Waits.eventually(60, () -> regions.stream().filter(other -> !other.equals(region.name()))
          .allMatch(other -> "ok".equals(opinionOf(base, other))), region.name() + " to hold every other region ok");
    }
    JsonObject edgeView = get("http://127.0.0.1:" + mesh.edgePort() + "/failover/opinions");
    for (String region : regions) {
      assertThat(edgeView.getJsonObject("opinions").getJsonObject(region).getString("state")).as("the edge on %s", region)
          .isEqualTo("ok");
    }
    JsonObject accepted = post("http://127.0.0.1:" + mesh.edgePort() + "/v1/generations",
        new JsonObject().put("prompt", "a lighthouse at dusk").put("steps", 4).put("tier", "turbo"));
    String id = accepted.getString("id");
    Waits.eventually(120, () -> "completed".equals(get("http://127.0.0.1:" + mesh.edgePort() + "/v1/generations/" + id)
        .getString("status")), id + " to complete (regions dispatch: none is fenced)");
    assertThat(get("http://127.0.0.1:" + mesh.edgePort() + "/failover/decisions").getJsonArray("history"))
        .as("nothing declared down while the mesh started").isEmpty();
  }

  private String opinionOf(String base, String region) {
    JsonObject opinions = get(base + "/failover/opinions").getJsonObject("opinions");
    JsonObject of = opinions == null ? null : opinions.getJsonObject(region);
    return of == null ? null : of.getString("state");
  }

  private JsonObject get(String url) {
    return send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).GET().build());
  }

  private JsonObject post(String url, JsonObject body) {
    return send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode())).build());
  }

  private JsonObject send(HttpRequest request) {
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      return response.body().isBlank() ? new JsonObject() : new JsonObject(response.body());
    } catch (java.io.IOException e) {
      return new JsonObject().put("error", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
