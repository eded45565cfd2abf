package dev.genmesh.failover.impl;

import dev.genmesh.failover.Opinion;
import dev.genmesh.failover.RegionJudge.Probe;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The two HTTP calls of a participant: a region's {@code /failover/status} (what the observer
 * judges) and another participant's {@code /failover/opinions}. Each is bounded by the poll
 * timeout; a failure is an answer too (the region did not answer, the observer is not heard).
 */
public final class Polls {
  public static final String STATUS = "/failover/status";
  public static final String OPINIONS = "/failover/opinions";

  /**
   * Another participant's opinions, anchored on this participant's clock when they arrived, and
   * the regions its quorum holds DOWN.
   */
  public record Report(Instant receivedAt, Map<String, Opinion> opinions, Set<String> down) {}

  private final WebClient web;
  private final long timeoutMs;

  public Polls(WebClient web, long timeoutMs) {
    this.web = web;
    this.timeoutMs = timeoutMs;
  }

  /** A region's status as a probe; never fails (no answer is an unanswered probe). */
  public Future<Probe> probe(String baseUrl) {
    return get(baseUrl + STATUS).transform(answer -> {
      if (answer.failed()) {
        return Future.succeededFuture(Probe.unanswered(String.valueOf(answer.cause().getMessage())));
      }
      HttpResponse<Buffer> response = answer.result();
      JsonObject body = json(response);
      if (body == null) {
        return Future.succeededFuture(Probe.unanswered("status answered " + response.statusCode() + " without JSON"));
      }
      return Future.succeededFuture(new Probe(true, body.getBoolean("ready", false), body.getLong("queued", 0L),
          body.getString("progress", ""), body.getString("problem", "")));
    });
  }

  /** Another participant's opinions; fails when it does not answer usefully. */
  public Future<Report> opinions(String baseUrl, java.time.Clock clock) {
    return get(baseUrl + OPINIONS).compose(response -> {
      Instant receivedAt = clock.instant();
      JsonObject body = json(response);
      if (response.statusCode() != 200 || body == null || body.getJsonObject("opinions") == null) {
        return Future.failedFuture("opinions answered " + response.statusCode());
      }
      Map<String, Opinion> opinions = new HashMap<>();
      JsonObject all = body.getJsonObject("opinions");
      for (String region : all.fieldNames()) {
        opinions.put(region, Opinion.fromJson(region, all.getJsonObject(region), receivedAt));
      }
      Set<String> down = new HashSet<>();
      JsonObject decisions = body.getJsonObject("decisions", new JsonObject());
      decisions.fieldNames().stream().filter(region -> "down".equals(decisions.getValue(region))).forEach(down::add);
      return Future.succeededFuture(new Report(receivedAt, opinions, Set.copyOf(down)));
    });
  }

  private Future<HttpResponse<Buffer>> get(String url) {
    return web.getAbs(url).connectTimeout(timeoutMs).idleTimeout(timeoutMs).send()
        .timeout(timeoutMs, TimeUnit.MILLISECONDS);
  }

  private static JsonObject json(HttpResponse<Buffer> response) {
    try {
      return response.body() == null ? null : response.bodyAsJsonObject();
    } catch (RuntimeException notJson) {
      return null;
    }
  }
}
