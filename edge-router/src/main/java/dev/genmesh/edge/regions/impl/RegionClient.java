package dev.genmesh.edge.regions.impl;

import dev.genmesh.config.RegionConfig;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The regional API of one region, over HTTP only (docs/architecture.md, "The shape": regions
 * never share a cluster with the edge). Every call is bounded by the edge's region timeout. No
 * redirect is followed blindly: a {@code 307} about an id (status, cancel, images, events) is
 * followed once, to the adopter among the regions the edge knows ({@link AdoptionRedirects}).
 */
public final class RegionClient {
  static final String GENERATIONS = "/regional/v1/generations";
  static final String IMAGES = "/regional/v1/images";
  static final String READY = "/health/ready";
  static final String MODELS = "/regional/v1/models";

  private final RegionConfig region;
  private final WebClient web;
  private final WebSocketClient webSockets;
  private final long timeoutMs;
  private final String base;
  private final URI baseUri;
  private volatile AdoptionRedirects adoptions;

  public RegionClient(RegionConfig region, WebClient web, WebSocketClient webSockets, long timeoutMs) {
    this.region = region;
    this.web = web;
    this.webSockets = webSockets;
    this.timeoutMs = timeoutMs;
    String url = region.effectiveApiUrl();
    this.base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    this.baseUri = URI.create(base);
  }

  public String name() {
    return region.name();
  }

  public RegionConfig config() {
    return region;
  }

  URI baseUri() {
    return baseUri;
  }

  void followAdoptionsWith(AdoptionRedirects redirects) {
    this.adoptions = redirects;
  }

  /** Submits a validated spec; the region answers 202 only once the request is in its log. */
  public Future<HttpResponse<Buffer>> submit(JsonObject body) {
    return bounded(request(HttpMethod.POST, GENERATIONS, timeoutMs).sendJsonObject(body), timeoutMs);
  }

  public Future<HttpResponse<Buffer>> view(String requestId) {
    return followed(requestId, r -> bounded(r.request(HttpMethod.GET, GENERATIONS + "/" + requestId, timeoutMs).send(), timeoutMs));
  }

  public Future<HttpResponse<Buffer>> cancel(String requestId) {
    return followed(requestId, r -> bounded(r.request(HttpMethod.DELETE, GENERATIONS + "/" + requestId, timeoutMs).send(),
        timeoutMs));
  }

  /**
   * The image (GET) or its headers (HEAD), with the client's conditional and range headers
   * ({@code If-None-Match}, {@code Range}, {@code If-Range}) passed on; absent ones are null.
   */
  public Future<HttpResponse<Buffer>> image(HttpMethod method, String requestId, int index, MultiMap conditions) {
    return followed(requestId, r -> {
      HttpRequest<Buffer> request = r.request(method, IMAGES + "/" + requestId + "/" + index + ".png", timeoutMs);
      request.putHeaders(conditions);
      return bounded(request.send(), timeoutMs);
    });
  }

  /** Where the image can be read directly for a while: {@code {url, expires_at, etag, size, content_type}}. */
  public Future<HttpResponse<Buffer>> imageLink(String requestId, int index) {
    return followed(requestId, r -> bounded(r.request(HttpMethod.GET, IMAGES + "/" + requestId + "/" + index + ".png/link",
        timeoutMs).send(), timeoutMs));
  }

  /** The region's model registry: names, versions, current version, manifest summaries. */
  public Future<HttpResponse<Buffer>> models() {
    return bounded(request(HttpMethod.GET, MODELS, timeoutMs).send(), timeoutMs);
  }

  /** A GET of one of the region's internal views ({@code /failover/status}, {@code /internal/ops}...), bounded. */
  public Future<HttpResponse<Buffer>> internal(String path) {
    return bounded(request(HttpMethod.GET, path, timeoutMs).send(), timeoutMs);
  }

  public Future<HttpResponse<Buffer>> ready(long pollTimeoutMs) {
    return bounded(request(HttpMethod.GET, READY, pollTimeoutMs).send(), pollTimeoutMs);
  }

  /**
   * Opens the request's event stream. The socket comes back paused so that no frame is lost
   * before the caller has somewhere to put it. Only the handshake is bounded: a stream may
   * stay quiet for minutes while a relax request waits in its queue.
   */
  public Future<WebSocket> events(String requestId, long after) {
    AdoptionRedirects redirects = adoptions;
    return connect(requestId, after).recover(refused -> {
      if (redirects == null || !(refused instanceof UpgradeRejectedException rejected) || rejected.getStatus() != 307) {
        return Future.failedFuture(refused);
      }
      RegionClient adopter;
      try {
        adopter = redirects.adopter(this, requestId, rejected.getHeaders() == null ? null
            : rejected.getHeaders().get(HttpHeaders.LOCATION), rejected.getBody());
      } catch (AdoptionRedirects.NotFollowed notFollowed) {
        return Future.failedFuture(notFollowed);
      }
      return adopter.connect(requestId, after).recover(again -> Future.failedFuture(
          again instanceof UpgradeRejectedException second && second.getStatus() == 307
              ? redirects.secondHop(adopter, requestId) : again));
    });
  }

  private Future<WebSocket> connect(String requestId, long after) {
    boolean tls = "https".equalsIgnoreCase(baseUri.getScheme());
    int port = baseUri.getPort() != -1 ? baseUri.getPort() : (tls ? 443 : 80);
    String prefix = baseUri.getRawPath() == null ? "" : baseUri.getRawPath();
    WebSocketConnectOptions options = new WebSocketConnectOptions()
        .setHost(baseUri.getHost())
        .setPort(port)
        .setSsl(tls)
        .setConnectTimeout(timeoutMs)
        .setURI(prefix + GENERATIONS + "/" + requestId + "/events?after=" + after);
    Future<WebSocket> connecting = webSockets.connect(options).map(socket -> {
      socket.pause();
      return socket;
    });
    return connecting
        .timeout(timeoutMs, TimeUnit.MILLISECONDS)
        .onFailure(late -> connecting.onSuccess(WebSocket::close));
  }

  private HttpRequest<Buffer> request(HttpMethod method, String path, long timeout) {
    return web.requestAbs(method, base + path).followRedirects(false).connectTimeout(timeout).idleTimeout(timeout);
  }

  /** {@code call} here; a 307 about the id is followed once, to the adopter among the regions the edge knows. */
  private Future<HttpResponse<Buffer>> followed(String requestId, Function<RegionClient, Future<HttpResponse<Buffer>>> call) {
    AdoptionRedirects redirects = adoptions;
    return call.apply(this).compose(answer -> {
      if (redirects == null || answer.statusCode() != 307) {
        return Future.succeededFuture(answer);
      }
      RegionClient adopter;
      try {
        adopter = redirects.adopter(this, requestId, answer.getHeader(HttpHeaders.LOCATION.toString()), answer.body());
      } catch (AdoptionRedirects.NotFollowed notFollowed) {
        return Future.failedFuture(notFollowed);
      }
      return call.apply(adopter).compose(second -> second.statusCode() == 307
          ? Future.failedFuture(redirects.secondHop(adopter, requestId)) : Future.succeededFuture(second));
    });
  }

  /** Idle and connect timeouts do not bound a slow trickle; this bounds the whole call. */
  private static <T> Future<T> bounded(Future<T> call, long timeout) {
    return call.timeout(timeout, TimeUnit.MILLISECONDS);
  }
}
