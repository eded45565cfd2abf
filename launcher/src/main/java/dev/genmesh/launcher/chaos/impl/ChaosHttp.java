package dev.genmesh.launcher.chaos.impl;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A blocking JSON client for the edge, a region's API and the chaos control API. A connection that
 * fails is an answer with status 0, so that an experiment can count "no answer" beside 5xx.
 */
public final class ChaosHttp {
  private static final Duration TIMEOUT = Duration.ofSeconds(15);

  /** One answer; status 0: none (refused, reset, timed out). */
  public record Answer(int status, String body) {
    public JsonObject json() {
      try {
        return new JsonObject(body);
      } catch (RuntimeException e) {
        return new JsonObject().put("body", body);
      }
    }
  }

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(3)).build();
  private final String base;
  private final String bearer;

  /** @param bearer the {@code Authorization: Bearer} value, or null for none */
  public ChaosHttp(String base, String bearer) {
    this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.bearer = bearer;
  }

  /** The same server with another key. */
  public ChaosHttp as(String otherBearer) {
    return new ChaosHttp(base, otherBearer);
  }

  public Answer get(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
  }

  public Answer post(String path, JsonObject body) {
    return post(path, body, TIMEOUT);
  }

  /** As {@link #post(String, JsonObject)}, waiting up to {@code timeout} for the answer (a call that starts processes). */
  public Answer post(String path, JsonObject body, Duration timeout) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).timeout(timeout));
  }

  /** The first bytes of the answer at {@code path} (a PNG's signature), empty unless 200. */
  public byte[] head(String path, int bytes) {
    try {
      HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(TIMEOUT).GET();
      if (bearer != null) {
        request.header("Authorization", "Bearer " + bearer);
      }
      HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
      return response.statusCode() == 200 ? java.util.Arrays.copyOf(response.body(), Math.min(bytes, response.body().length))
          : new byte[0];
    } catch (IOException e) {
      return new byte[0];
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private Answer send(HttpRequest.Builder request) {
    if (bearer != null) {
      request.header("Authorization", "Bearer " + bearer);
    }
    try {
      HttpRequest built = request.build();
      if (built.timeout().isEmpty()) {
        built = request.timeout(TIMEOUT).build();
      }
      HttpResponse<String> response = http.send(built, HttpResponse.BodyHandlers.ofString());
      return new Answer(response.statusCode(), response.body());
    } catch (IOException e) {
      return new Answer(0, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String toString() {
    return base;
  }
}
