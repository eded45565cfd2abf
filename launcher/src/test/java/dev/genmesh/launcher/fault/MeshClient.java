package dev.genmesh.launcher.fault;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A blocking HTTP client for a region's API ({@code /regional/v1}, region-node/API.md) or the
 * edge's public one ({@code /v1}). Connection failures come back as status 0, so that a test
 * can tell "the process is down" from an answer.
 */
final class MeshClient {
  private static final Duration TIMEOUT = Duration.ofSeconds(15);

  /** One answer: status 0 means no answer (refused, reset, timed out). */
  record Answer(int status, String body, Optional<String> retryAfter, String contentType) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(3))
      .build();
  private final String base;
  private final String prefix;

  private MeshClient(String base, String prefix) {
    this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.prefix = prefix;
  }

  static MeshClient regional(String baseUrl) {
    return new MeshClient(baseUrl, "/regional/v1");
  }

  static MeshClient edge(String baseUrl) {
    return new MeshClient(baseUrl, "/v1");
  }

  /**
   * A request the bundled model serves in roughly {@code steps} × (size/512)² × 10 ms here;
   * every field is given, because the regional API takes the spec as the edge validated it.
   */
  static JsonObject spec(String prompt, int steps, int size, long seed) {
    return new JsonObject()
        .put("prompt", prompt)
        .put("negative_prompt", "")
        .put("model", "genmesh-tiny")
        .put("tier", "fast")
        .put("width", size)
        .put("height", size)
        .put("steps", steps)
        .put("seed", seed)
        .put("guidance", 7.5)
        .put("batch_size", 1);
  }

  Answer submit(JsonObject spec) {
    return send(HttpRequest.newBuilder(uri(prefix + "/generations"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(spec.encode())));
  }

  /**
   * Waits for one of {@code ids} to be generating on one of {@code workers} in the first half of
   * its {@code steps} (early enough that a fault cannot race the hand-in of its result); its view.
   */
  JsonObject awaitEarlyRun(java.util.Collection<String> ids, java.util.Set<String> workers, int steps, java.time.Duration timeout) {
    return Sleeps.until("a request in the first half of its steps on a worker", timeout, () -> ids.stream()
        .map(this::view)
        .filter(answer -> answer.status() == 200)
        .map(Answer::json)
        .filter(view -> "generating".equals(view.getString("status")) && workers.contains(view.getString("worker")))
        .filter(view -> events(view.getString("id")).stream().filter(e -> "step".equals(e.getString("type")))
            .mapToInt(e -> e.getInteger("step")).max().orElse(0) <= steps / 2)
        .findFirst().orElse(null));
  }

  Answer view(String id) {
    return get(prefix + "/generations/" + id);
  }

  /** The request's stored events (the regional API's plain-GET form of the event stream). */
  List<JsonObject> events(String id) {
    Answer answer = get(prefix + "/generations/" + id + "/events");
    if (answer.status() != 200) {
      throw new AssertionError("events of " + id + ": HTTP " + answer.status() + " " + answer.body());
    }
    List<JsonObject> events = new ArrayList<>();
    JsonArray list = answer.json().getJsonArray("events");
    for (int i = 0; i < list.size(); i++) {
      events.add(list.getJsonObject(i));
    }
    return events;
  }

  /** The bytes at a public image path ({@code /v1/images/<id>/0.png}), through this API. */
  byte[] image(String publicPath) {
    String path = prefix.equals("/v1") ? publicPath : publicPath.replaceFirst("^/v1/", "/regional/v1/");
    try {
      HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(uri(path)).timeout(TIMEOUT).GET().build(),
          HttpResponse.BodyHandlers.ofByteArray());
      if (response.statusCode() != 200) {
        throw new AssertionError("image " + path + ": HTTP " + response.statusCode());
      }
      return response.body();
    } catch (IOException e) {
      throw new AssertionError("image " + path + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The answer for image {@code index} of a request, whatever it is (the PNG bytes read as text on a 200). */
  Answer imageAt(String id, int index) {
    return get(prefix + "/images/" + id + "/" + index + ".png");
  }

  /** A POST of JSON to a path of its own (e.g. {@code /internal/failover/decisions}). */
  Answer post(String path, JsonObject body) {
    return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())));
  }

  /** Cancels a request ({@code DELETE .../generations/{id}}). */
  Answer cancel(String id) {
    return send(HttpRequest.newBuilder(uri(prefix + "/generations/" + id)).DELETE());
  }

  Answer get(String path) {
    return send(HttpRequest.newBuilder(uri(path)).GET());
  }

  private Answer send(HttpRequest.Builder request) {
    try {
      HttpResponse<String> response = http.send(request.timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
      return new Answer(response.statusCode(), response.body(), response.headers().firstValue("Retry-After"),
          response.headers().firstValue("Content-Type").orElse(""));
    } catch (IOException e) {
      return new Answer(0, e.toString(), Optional.empty(), "");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private URI uri(String path) {
    return URI.create(base + path);
  }

  @Override
  public String toString() {
    return base + prefix;
  }
}
