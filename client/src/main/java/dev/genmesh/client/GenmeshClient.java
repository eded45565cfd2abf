package dev.genmesh.client;

import dev.genmesh.client.impl.EdgeCalls;
import dev.genmesh.client.impl.EventFollower;
import dev.genmesh.client.impl.RetryPolicy;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.ext.web.client.HttpResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * A client of the edge's public API v1 (edge-router's openapi.yaml). Every method returns a Vert.x
 * {@link Future}; block on one with {@code .toCompletionStage().toCompletableFuture().get()} where
 * a thread may wait. Failures are {@link GenmeshException}s carrying the edge's {@code code}.
 *
 * <p>Calls that got no answer, a {@code 429} or a {@code 503} are tried again after the edge's
 * {@code Retry-After} (else an exponential backoff with jitter), up to
 * {@link ClientOptions#maxAttempts()}; a submit sends the same {@code Idempotency-Key} each time,
 * so a retried submit whose first answer was lost gets the first request back, never a second one.
 */
public final class GenmeshClient implements AutoCloseable {
  private final Vertx vertx;
  private final boolean ownsVertx;
  private final ClientOptions options;
  private final EdgeCalls calls;
  private final WebSocketClient sockets;

  private GenmeshClient(Vertx vertx, boolean ownsVertx, ClientOptions options, RetryPolicy policy) {
    this.vertx = vertx;
    this.ownsVertx = ownsVertx;
    this.options = options;
    this.calls = new EdgeCalls(vertx, options, policy);
    this.sockets = vertx.createWebSocketClient(new WebSocketClientOptions()
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, options.requestTimeout().toMillis())));
  }

  /** A client with its own Vert.x instance, closed with the client. */
  public static GenmeshClient create(ClientOptions options) {
    return new GenmeshClient(Vertx.vertx(), true, options, new RetryPolicy(options));
  }

  /** A client on the caller's Vert.x instance (left open by {@link #close()}). */
  public static GenmeshClient create(Vertx vertx, ClientOptions options) {
    return new GenmeshClient(vertx, false, options, new RetryPolicy(options));
  }

  public ClientOptions options() {
    return options;
  }

  /** Told before each retry of a call (what, attempts made, the failure, the wait in ms). */
  public GenmeshClient onRetry(RetryListener listener) {
    calls.onRetry(listener);
    return this;
  }

  /** Submits with a fresh idempotency key; answers once a region committed the request (202). */
  public Future<Generation> submit(GenerationRequest request) {
    return submit(request, newIdempotencyKey());
  }

  /** Submits with the caller's idempotency key (1 to 200 printable ASCII characters), reused on every retry. */
  public Future<Generation> submit(GenerationRequest request, String idempotencyKey) {
    Buffer body = request.toJson().toBuffer();
    return calls.withRetries("submit", () -> calls.request(HttpMethod.POST, "/v1/generations")
            .putHeader("Content-Type", "application/json").putHeader("Idempotency-Key", idempotencyKey)
            .sendBuffer(body))
        .map(response -> Generation.fromJson(response.bodyAsJsonObject()));
  }

  /** A key no other submit uses. */
  public static String newIdempotencyKey() {
    return "gmc-" + UUID.randomUUID();
  }

  public Future<Generation> get(String id) {
    return calls.withRetries("get " + id, () -> calls.request(HttpMethod.GET, "/v1/generations/" + encode(id)).send())
        .map(response -> Generation.fromJson(response.bodyAsJsonObject()));
  }

  /**
   * Cancels a generation: a queued one leaves its queue, a running one stops at its next step.
   * Fails with {@code 409} when it had already completed or failed; a request already cancelled
   * (a retried cancel whose first answer was lost, for one) answers its view.
   */
  public Future<Generation> cancel(String id) {
    return calls.withRetries("cancel " + id, () -> calls.request(HttpMethod.DELETE, "/v1/generations/" + encode(id)).send())
        .map(response -> Generation.fromJson(response.bodyAsJsonObject()))
        .recover(failure -> failure instanceof GenmeshException e && e.status() == 409
            ? get(id).compose(view -> "cancelled".equals(view.status()) ? Future.succeededFuture(view) : Future.failedFuture(e))
            : Future.failedFuture(failure));
  }

  /** One page of the caller's generations, newest first; {@code limit} and {@code cursor} may be null. */
  public Future<GenerationPage> list(Integer limit, String cursor) {
    StringBuilder path = new StringBuilder("/v1/generations");
    String separator = "?";
    if (limit != null) {
      path.append(separator).append("limit=").append(limit);
      separator = "&";
    }
    if (cursor != null) {
      path.append(separator).append("cursor=").append(encode(cursor));
    }
    return calls.withRetries("list", () -> calls.request(HttpMethod.GET, path.toString()).send())
        .map(response -> GenerationPage.fromJson(response.bodyAsJsonObject()));
  }

  /**
   * Follows a generation's events from after event {@code after} (0: from the start), resuming
   * after any break; see {@link EventStream}. {@code onEvent} runs on a Vert.x event loop: keep it short.
   */
  public EventStream follow(String id, long after, Consumer<GenerationEvent> onEvent) {
    return new EventFollower(calls, sockets, options, id, after, onEvent).start();
  }

  /** The PNG bytes of image {@code index} of a completed generation ({@code 409 not_ready} before). */
  public Future<Buffer> image(String id, int index) {
    return image("/v1/images/" + encode(id) + "/" + index + ".png");
  }

  /** The PNG bytes at an image path as events and views give it ({@code /v1/images/<id>/<i>.png}). */
  public Future<Buffer> image(String path) {
    return calls.withRetries("image " + path, () -> calls.request(HttpMethod.GET, path).send()
            .compose(response -> isRedirect(response) ? followRedirect(response) : Future.succeededFuture(response)))
        .map(HttpResponse::body);
  }

  /** Writes the image at {@code path} to {@code file}. */
  public Future<Void> download(String path, Path file) {
    return image(path).compose(bytes -> vertx.fileSystem().writeFile(file.toString(), bytes));
  }

  private Future<HttpResponse<Buffer>> followRedirect(HttpResponse<Buffer> response) {
    // A presigned URL of the region's store (images.edge_delivery: redirect): no API key goes there.
    return calls.plain(HttpMethod.GET, response.getHeader("Location")).send();
  }

  private static boolean isRedirect(HttpResponse<Buffer> response) {
    int status = response.statusCode();
    return (status == 302 || status == 303 || status == 307) && response.getHeader("Location") != null;
  }

  private static String encode(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** Closes the HTTP and WebSocket clients, and the Vert.x instance if the client made it. */
  @Override
  public void close() {
    calls.close();
    sockets.close();
    if (ownsVertx) {
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
  }
}
