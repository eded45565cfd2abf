package dev.genmesh.client.impl;

import dev.genmesh.client.ClientOptions;
import dev.genmesh.client.GenmeshException;
import dev.genmesh.client.RetryListener;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.URI;
import java.util.function.Supplier;

/**
 * HTTP calls to the edge with the caller's key, a timeout, and retries by {@link RetryPolicy}. A
 * call whose answer is 400 or more fails with the edge's {@link GenmeshException}; one that got
 * no answer fails with {@link GenmeshException#UNREACHABLE}.
 */
public final class EdgeCalls {
  private final Vertx vertx;
  private final ClientOptions options;
  private final RetryPolicy policy;
  private final WebClient http;
  private final String prefix;
  private volatile RetryListener listener = (what, attempts, failure, delay) -> {};

  public EdgeCalls(Vertx vertx, ClientOptions options, RetryPolicy policy) {
    this.vertx = vertx;
    this.options = options;
    this.policy = policy;
    // Redirects are followed by hand: a presigned image URL must not get the API key.
    this.http = WebClient.create(vertx, new WebClientOptions().setFollowRedirects(false)
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, options.requestTimeout().toMillis())));
    String path = options.url().getRawPath();
    this.prefix = path == null ? "" : path.replaceAll("/+$", "");
  }

  public void onRetry(RetryListener listener) {
    this.listener = listener;
  }

  public RetryPolicy policy() {
    return policy;
  }

  public Vertx vertx() {
    return vertx;
  }

  /** The absolute URL of an edge path ({@code /v1/...}), under the base URL's prefix. */
  public String url(String path) {
    URI base = options.url();
    return base.getScheme() + "://" + base.getRawAuthority() + prefix + path;
  }

  /** A request to the edge with the key and the timeout; {@code path} starts with {@code /v1}. */
  public HttpRequest<Buffer> request(HttpMethod method, String path) {
    HttpRequest<Buffer> request = http.requestAbs(method, url(path)).timeout(options.requestTimeout().toMillis());
    if (options.apiKey() != null) {
      request.putHeader("Authorization", "Bearer " + options.apiKey());
    }
    return request;
  }

  /** A request to any absolute URL, without the key (a presigned image URL). */
  public HttpRequest<Buffer> plain(HttpMethod method, String absoluteUrl) {
    return http.requestAbs(method, absoluteUrl).timeout(options.requestTimeout().toMillis());
  }

  /** Sends what {@code send} sends, again while the failure is retryable and attempts remain. */
  public Future<HttpResponse<Buffer>> withRetries(String what, Supplier<Future<HttpResponse<Buffer>>> send) {
    Promise<HttpResponse<Buffer>> result = Promise.promise();
    attempt(what, send, 1, result);
    return result.future();
  }

  private void attempt(String what, Supplier<Future<HttpResponse<Buffer>>> send, int attempt,
      Promise<HttpResponse<Buffer>> result) {
    once(what, send).onComplete(done -> {
      if (done.succeeded()) {
        result.complete(done.result());
        return;
      }
      GenmeshException failure = (GenmeshException) done.cause();
      if (!policy.shouldRetry(attempt, failure)) {
        result.fail(failure);
        return;
      }
      long delay = policy.delayMs(attempt, failure);
      listener.retrying(what, attempt, failure, delay);
      vertx.setTimer(Math.max(1, delay), t -> attempt(what, send, attempt + 1, result));
    });
  }

  /** One call; fails with a {@link GenmeshException}, never another exception. */
  public static Future<HttpResponse<Buffer>> once(String what, Supplier<Future<HttpResponse<Buffer>>> send) {
    Future<HttpResponse<Buffer>> sent;
    try {
      sent = send.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(GenmeshException.unreachable(what, e));
    }
    return sent.transform(done -> {
      if (done.failed()) {
        return Future.failedFuture(GenmeshException.unreachable(what, done.cause()));
      }
      HttpResponse<Buffer> response = done.result();
      if (response.statusCode() >= 400) {
        return Future.failedFuture(Answers.error(response.statusCode(), response.headers(), response.body()));
      }
      return Future.succeededFuture(response);
    });
  }

  public void close() {
    http.close();
  }
}
