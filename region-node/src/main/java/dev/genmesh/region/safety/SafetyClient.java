package dev.genmesh.region.safety;

import dev.genmesh.config.SafetyConfig;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.safety.SafetyCheck;
import dev.genmesh.protocol.safety.SafetyVerdict;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerOptions;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.circuitbreaker.OpenCircuitException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The region's client of the Safety API ({@code POST <url>/v1/check}, region-node/SAFETY.md)
 * behind one named circuit breaker, whose state changes are logged once, counted
 * ({@value #TRANSITIONS}) and published on {@link Addresses#ALERTS}. {@link #check} never fails: no
 * answer (refused, timeout, 5xx, malformed, circuit open) is the verdict {@code UNAVAILABLE}.
 */
public final class SafetyClient {
  private static final Logger LOG = LoggerFactory.getLogger(SafetyClient.class);
  public static final String TRANSITIONS = "genmesh.safety.breaker.transitions";
  /** Failures older than this no longer count; a success clears them anyway. */
  private static final long FAILURE_WINDOW_MS = 600_000;

  private final Vertx vertx;
  private final String region;
  private final String checkUrl;
  private final long timeoutMs;
  private final MeterRegistry meters;
  /** Vert.x core's client, not the web client: one check per result, and the web client's pipeline was a visible share of the node's event loop (bench/queue). */
  private final HttpClient http;
  private final String host;
  private final int port;
  private final boolean ssl;
  private final String path;
  private final CircuitBreaker breaker;
  private String state = "closed";

  /** @param baseUrl where the Safety API is ({@code http://host:port}, without {@code /v1/check}) */
  public SafetyClient(Vertx vertx, String region, SafetyConfig config, String baseUrl, MeterRegistry meters) {
    this.vertx = vertx;
    this.region = region;
    this.checkUrl = baseUrl.replaceAll("/+$", "") + "/v1/check";
    this.timeoutMs = config.timeoutMs();
    this.meters = meters;
    this.http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true));
    URI uri = URI.create(checkUrl);
    this.ssl = "https".equalsIgnoreCase(uri.getScheme());
    this.host = uri.getHost();
    this.port = uri.getPort() > 0 ? uri.getPort() : ssl ? 443 : 80;
    this.path = uri.getRawPath();
    this.breaker = CircuitBreaker.create("genmesh-safety-" + region, vertx, new CircuitBreakerOptions()
            .setMaxFailures(config.breakerFailures())
            .setTimeout(config.timeoutMs())
            .setResetTimeout(config.breakerOpenMs())
            .setFailuresRollingWindow(FAILURE_WINDOW_MS)
            .setFallbackOnFailure(false)
            .setNotificationAddress(null))
        .openHandler(v -> changed("open"))
        .halfOpenHandler(v -> changed("half_open"))
        .closeHandler(v -> changed("closed"));
  }

  /** The verdict of the Safety API on one request; {@code UNAVAILABLE} when there is none. */
  public Future<SafetyVerdict> check(SafetyCheck check) {
    // A few hundred bytes: the images go by key and presigned URL, not by content.
    RequestOptions post = new RequestOptions().setMethod(HttpMethod.POST).setHost(host).setPort(port).setSsl(ssl)
        .setURI(path).setConnectTimeout(timeoutMs).setIdleTimeout(timeoutMs)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
    return breaker.<SafetyVerdict>execute(() -> http.request(post)
            .compose(request -> request.send(check.toJson().toBuffer()))
            .compose(response -> response.body().compose(body -> verdict(response.statusCode(), body))))
        .recover(err -> {
          String detail = describe(err);
          LOG.debug("request {}: safety check unavailable: {}", check.requestId(), detail);
          return Future.succeededFuture(SafetyVerdict.unavailable(detail));
        });
  }

  /** {@code closed}, {@code open} or {@code half_open}. */
  public String state() {
    return breaker.state().name().toLowerCase(Locale.ROOT);
  }

  /** False while the breaker is open: a call now would be refused without trying. */
  public boolean acceptsCalls() {
    return breaker.state() != CircuitBreakerState.OPEN;
  }

  /** Where the checks go. */
  public String checkUrl() {
    return checkUrl;
  }

  public void close() {
    breaker.close();
    http.close();
  }

  private static Future<SafetyVerdict> verdict(int status, Buffer answer) {
    if (status != 200) {
      return Future.failedFuture("the safety service answered HTTP " + status);
    }
    JsonObject body;
    try {
      body = answer.length() == 0 ? null : answer.toJsonObject();
    } catch (RuntimeException e) {
      body = null;
    }
    if (body == null) {
      return Future.failedFuture("the safety service answered something that is not a JSON object");
    }
    List<String> reasons = new ArrayList<>();
    Object listed = body.getValue("reasons");
    if (listed instanceof JsonArray array) {
      array.forEach(reason -> reasons.add(String.valueOf(reason)));
    }
    Object verdict = body.getValue("verdict");
    if ("allow".equals(verdict)) {
      return Future.succeededFuture(SafetyVerdict.allow(reasons));
    }
    if ("block".equals(verdict)) {
      if (reasons.isEmpty()) {
        reasons.add("blocked by the safety service (no reason given)");
      }
      return Future.succeededFuture(SafetyVerdict.block(reasons));
    }
    return Future.failedFuture("the safety service answered an unknown verdict: " + verdict);
  }

  private String describe(Throwable err) {
    if (err instanceof OpenCircuitException) {
      return "circuit open after repeated failures";
    }
    if (err instanceof io.vertx.circuitbreaker.TimeoutException) {
      return "no answer within " + timeoutMs + " ms";
    }
    return String.valueOf(err.getMessage());
  }

  /** Breaker handlers may run on any thread; one log line, count and alert per real change. */
  private synchronized void changed(String to) {
    String from = state;
    if (from.equals(to)) {
      return;
    }
    state = to;
    if ("open".equals(to) && "closed".equals(from)) {
      LOG.warn("region {}: safety circuit {} -> open: checks are refused for a while, requests wait in safety_pending",
          region, from);
    } else {
      LOG.info("region {}: safety circuit {} -> {}", region, from, to);
    }
    meters.counter(TRANSITIONS, "region", region, "from", from, "to", to).increment();
    vertx.eventBus().publish(Addresses.ALERTS, new JsonObject()
        .put("type", "breaker").put("kind", "safety").put("region", region).put("from", from).put("to", to));
  }
}
