package dev.genmesh.inference;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** A GET on a worker's HTTP port, as Kubernetes' prober or Prometheus would do it. */
final class Probe {
  private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  record Answer(int status, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }

    /** Check id → UP/DOWN, from the vertx-health-check body. */
    Map<String, String> checks() {
      Map<String, String> out = new LinkedHashMap<>();
      JsonArray checks = json().getJsonArray("checks", new JsonArray());
      checks.forEach(c -> out.put(((JsonObject) c).getString("id"), ((JsonObject) c).getString("status")));
      return out;
    }

    /** The {@code data} of one check. */
    JsonObject data(String id) {
      for (Object c : json().getJsonArray("checks", new JsonArray())) {
        if (id.equals(((JsonObject) c).getString("id"))) {
          return ((JsonObject) c).getJsonObject("data", new JsonObject());
        }
      }
      throw new AssertionError("no check " + id + " in " + body);
    }
  }

  private Probe() {}

  static Answer get(int port, String path) {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).build();
    try {
      HttpResponse<String> response = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
      return new Answer(response.statusCode(), response.body());
    } catch (Exception e) {
      throw new AssertionError("GET " + path + " on port " + port + " failed", e);
    }
  }
}
