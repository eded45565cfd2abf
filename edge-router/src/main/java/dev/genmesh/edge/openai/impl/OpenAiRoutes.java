package dev.genmesh.edge.openai.impl;

import dev.genmesh.config.OpenAiConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/images/generations}, the OpenAI Images API shape. It is a client of the edge's
 * own public API on loopback, with the caller's {@code Authorization}: the submit, the status
 * reads, the share links and the image bytes go through the same keys, ownership, rate limits,
 * validation, metrics and region routing as any other call. It submits, reads the status every
 * {@code poll_interval_ms} until the generation ends or {@code timeout_ms} passes (then 504, and
 * the generation is cancelled), and answers {@code {created, data: [{url} | {b64_json}]}}.
 */
public final class OpenAiRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(OpenAiRoutes.class);
  public static final String PATH = "/v1/images/generations";
  public static final String TIER_HEADER = "X-Genmesh-Tier";
  public static final String REQUESTS = "genmesh.edge.openai.requests";
  private static final int BODY_LIMIT = 64 * 1024;

  /** An answer of the edge's own API that ends the call: told to the client in OpenAI's shape. */
  private static final class Refused extends RuntimeException {
    final HttpResponse<Buffer> response;

    Refused(HttpResponse<Buffer> response) {
      super("status " + response.statusCode(), null, false, false);
      this.response = response;
    }
  }

  private final Vertx vertx;
  private final OpenAiConfig config;
  private final Set<String> models;
  private final WebClient self;
  private final String host;
  private final IntSupplier port;
  private final Clock clock;
  private final MeterRegistry meters;

  /**
   * @param models genmesh's model names, in config order (the first is the default)
   * @param self calls this edge; {@code host} and {@code port} say where it listens
   */
  public OpenAiRoutes(Vertx vertx, OpenAiConfig config, Set<String> models, WebClient self, String host, IntSupplier port,
      Clock clock, MeterRegistry meters) {
    this.vertx = vertx;
    this.config = config;
    this.models = models;
    this.self = self;
    this.host = "0.0.0.0".equals(host) || "::".equals(host) ? "127.0.0.1" : host;
    this.port = port;
    this.clock = clock;
    this.meters = meters;
  }

  /** Adds the route; call before the generic {@code /v1/images/*} guards, so that every answer is OpenAI's shape. */
  public void mount(Router router) {
    if (!config.enabled()) {
      return;
    }
    router.post(PATH).handler(BodyHandler.create(false).setBodyLimit(BODY_LIMIT)).handler(this::generate)
        .failureHandler(this::failed);
  }

  private void failed(RoutingContext ctx) {
    if (ctx.statusCode() == 413) {
      answerError(ctx, 413, "The request body is larger than " + BODY_LIMIT + " bytes.", null, "body_too_large");
    } else {
      LOG.error("{}: unexpected failure", PATH, ctx.failure());
      answerError(ctx, 500, "internal error", null, "internal");
    }
  }

  private void generate(RoutingContext ctx) {
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      body = null;
    }
    if (body == null) {
      answerError(ctx, 400, "We could not parse the JSON body of your request.", null, "invalid_json");
      return;
    }
    OpenAiRequest request;
    try {
      request = OpenAiRequest.read(body, config, models);
    } catch (OpenAiRequest.Invalid invalid) {
      answerError(ctx, 400, invalid.getMessage(), invalid.param, "invalid_value");
      return;
    }
    String auth = ctx.request().getHeader("Authorization");
    long deadline = System.nanoTime() + config.timeoutMs() * 1_000_000L;
    tier(ctx, auth)
        .compose(tier -> call(HttpMethod.POST, "/v1/generations", auth, 202, request.submit().copy().put("tier", tier)))
        .map(HttpResponse::bodyAsJsonObject)
        .compose(view -> waitForEnd(view.getString("id"), auth, deadline))
        .compose(view -> images(ctx, view, auth, request.base64()))
        .onSuccess(data -> {
          count("ok", "none");
          ctx.response().setStatusCode(200).putHeader("Content-Type", OpenAiErrors.JSON).putHeader("Cache-Control", "no-store")
              .end(new JsonObject().put("created", clock.instant().getEpochSecond()).put("data", data).toBuffer());
        })
        .onFailure(failure -> answerFailure(ctx, failure));
  }

  /** The tier: the header's, else the default if the key may use it, else the key's first (from {@code /v1/usage}). */
  private Future<String> tier(RoutingContext ctx, String auth) {
    String asked = ctx.request().getHeader(TIER_HEADER);
    if (asked != null) {
      return Future.succeededFuture(asked);
    }
    return call(HttpMethod.GET, "/v1/usage", auth, 200, null).map(usage -> {
      JsonArray tiers = usage.bodyAsJsonObject().getJsonArray("tiers", new JsonArray());
      return tiers.contains(config.defaultTier()) || tiers.isEmpty() ? config.defaultTier() : tiers.getString(0);
    });
  }

  private Future<JsonObject> waitForEnd(String id, String auth, long deadline) {
    return call(HttpMethod.GET, "/v1/generations/" + id, auth, 200, null).map(HttpResponse::bodyAsJsonObject)
        .compose(view -> {
          String status = view.getString("status");
          if ("completed".equals(status) || "failed".equals(status) || "cancelled".equals(status)) {
            return Future.succeededFuture(view);
          }
          if (System.nanoTime() - deadline >= 0) {
            // The client stops waiting: nobody would fetch the images, so the GPUs should not make them.
            call(HttpMethod.DELETE, "/v1/generations/" + id, auth, 200, null)
                .onFailure(e -> LOG.debug("request {}: cancel after the OpenAI timeout failed ({})", id, e.toString()));
            return Future.failedFuture(new TimedOut(id));
          }
          Promise<JsonObject> next = Promise.promise();
          vertx.setTimer(config.pollIntervalMs(), t -> waitForEnd(id, auth, deadline).onComplete(next));
          return next.future();
        });
  }

  private static final class TimedOut extends RuntimeException {
    TimedOut(String id) {
      super("generation " + id + " did not end in time", null, false, false);
    }
  }

  private static final class Ended extends RuntimeException {
    final JsonObject view;

    Ended(JsonObject view) {
      super("generation " + view.getString("id") + " " + view.getString("status"), null, false, false);
      this.view = view;
    }
  }

  private Future<JsonArray> images(RoutingContext ctx, JsonObject view, String auth, boolean base64) {
    if (!"completed".equals(view.getString("status"))) {
      return Future.failedFuture(new Ended(view));
    }
    JsonArray paths = view.getJsonArray("images", new JsonArray());
    List<Future<JsonObject>> items = new ArrayList<>();
    String base = ctx.request().scheme() + "://"
        + (ctx.request().authority() != null ? ctx.request().authority().toString() : host + ":" + port.getAsInt());
    for (int i = 0; i < paths.size(); i++) {
      String path = paths.getString(i);
      items.add(base64
          ? call(HttpMethod.GET, path, auth, 200, null)
              .map(png -> new JsonObject().put("b64_json", Base64.getEncoder().encodeToString(png.body().getBytes())))
          : call(HttpMethod.POST, path + "/share", auth, 201, new JsonObject().put("ttl_s", config.urlTtlSeconds()))
              .map(link -> new JsonObject().put("url", base + link.bodyAsJsonObject().getString("url"))));
    }
    return Future.all(items).map(all -> new JsonArray(all.<JsonObject>list()));
  }

  /** One call to this edge's own API; a status other than {@code expected} fails with {@link Refused}. */
  private Future<HttpResponse<Buffer>> call(HttpMethod method, String path, String auth, int expected, JsonObject body) {
    HttpRequest<Buffer> request = self.request(method, port.getAsInt(), host, path).timeout(config.timeoutMs());
    if (auth != null) {
      request.putHeader("Authorization", auth);
    }
    Future<HttpResponse<Buffer>> sent = body == null ? request.send() : request.sendJsonObject(body);
    return sent.compose(response -> response.statusCode() == expected
        ? Future.succeededFuture(response) : Future.failedFuture(new Refused(response)));
  }

  private void answerFailure(RoutingContext ctx, Throwable failure) {
    if (failure instanceof Refused refused) {
      HttpResponse<Buffer> response = refused.response;
      if (response.statusCode() >= 500) {
        LOG.warn("{}: the edge's API answered {} ({})", PATH, response.statusCode(), response.bodyAsString());
      }
      count(response.statusCode() >= 500 ? "failed" : "rejected", "http_" + response.statusCode());
      OpenAiErrors.relay(ctx, response.statusCode(), response.body(), response.getHeader("Retry-After"));
    } else if (failure instanceof TimedOut) {
      count("timeout", "timeout");
      OpenAiErrors.send(ctx, 504, failure.getMessage() + " (edge.openai.timeout_ms = " + config.timeoutMs()
          + "); it was cancelled", null, "timeout");
    } else if (failure instanceof Ended ended) {
      JsonObject error = ended.view.getJsonObject("error", new JsonObject());
      String code = error.getString("code", ended.view.getString("status"));
      String message = error.getString("message", "the generation ended " + ended.view.getString("status"));
      LOG.info("request {}: ended {} ({}), answering the OpenAI call with an error", ended.view.getString("id"),
          ended.view.getString("status"), code);
      boolean blocked = "safety_blocked".equals(code);
      // As OpenAI answers a prompt its safety system refused.
      answerError(ctx, blocked ? 400 : 500, message, blocked ? "prompt" : null,
          blocked ? "content_policy_violation" : "generation_" + ended.view.getString("status"));
    } else {
      LOG.warn("{}: a call to the edge's own API failed ({})", PATH, failure.toString());
      answerError(ctx, 503, "the service cannot answer now; retry later", null, "unavailable");
    }
  }

  private void answerError(RoutingContext ctx, int status, String message, String param, String code) {
    count(status < 500 ? "rejected" : "failed", code);
    OpenAiErrors.send(ctx, status, message, param, code);
  }

  private void count(String outcome, String code) {
    Counter.builder(REQUESTS).description("OpenAI Images API calls by outcome and code")
        .tags("outcome", outcome, "code", code).register(meters).increment();
  }
}
