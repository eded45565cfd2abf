package dev.genmesh.registry.impl;

import dev.genmesh.registry.RegistryRoutes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.codec.BodyCodec;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * The primary region's registry over its regional API (region-node/API.md, "Model registry"),
 * as a mirror reads it. Every failure is a {@link MirrorFailure} saying whether the primary was
 * away, did not have it, or answered nonsense.
 */
public final class PrimaryClient {
  private static final int CONNECT_TIMEOUT_MS = 5_000;
  private static final long LISTING_TIMEOUT_MS = 10_000;

  private final Vertx vertx;
  private final WebClient http;
  private final Supplier<String> baseUrl;
  private final long downloadTimeoutMs;

  /** @param baseUrl the primary's regional API ({@code http://host:port}), asked at each call */
  public PrimaryClient(Vertx vertx, Supplier<String> baseUrl, long downloadTimeoutMs) {
    this.vertx = vertx;
    this.http = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(CONNECT_TIMEOUT_MS)
        .setUserAgent("genmesh-registry-mirror"));
    this.baseUrl = baseUrl;
    this.downloadTimeoutMs = downloadTimeoutMs;
  }

  public String baseUrl() {
    String url = baseUrl.get();
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  /** {@code GET /regional/v1/models}. */
  public Future<JsonObject> listing() {
    String url = baseUrl() + RegistryRoutes.MODELS;
    return get(url).compose(response -> {
      try {
        return Future.succeededFuture(response.bodyAsJsonObject());
      } catch (DecodeException | ClassCastException e) {
        return Future.failedFuture(new MirrorFailure(MirrorFailure.Reason.BAD_ANSWER, url + " did not answer a JSON object"));
      }
    });
  }

  /** A version's {@code manifest.json}, byte for byte. */
  public Future<Buffer> manifest(String name, String version) {
    return get(versionUrl(name, version) + "/manifest.json").map(HttpResponse::body);
  }

  /** Streams one listed file into {@code target} (created or truncated); the caller verifies it. */
  public Future<Void> download(String name, String version, String path, Path target) {
    StringBuilder url = new StringBuilder(versionUrl(name, version)).append("/files");
    for (String part : path.split("/")) {
      url.append('/').append(segment(part));
    }
    String where = url.toString();
    return vertx.fileSystem().open(target.toString(), new OpenOptions().setCreate(true).setWrite(true).setTruncateExisting(true))
        .compose(file -> http.getAbs(where).timeout(downloadTimeoutMs).as(BodyCodec.pipe(file, true)).send()
            .recover(err -> file.close().transform(ignored -> Future.failedFuture(unreachable(where, err)))))
        .compose(response -> response.statusCode() == 200 ? Future.<Void>succeededFuture() : Future.failedFuture(status(where,
            response.statusCode())));
  }

  public Future<Void> close() {
    http.close();
    return Future.succeededFuture();
  }

  private Future<HttpResponse<Buffer>> get(String url) {
    return http.getAbs(url).timeout(LISTING_TIMEOUT_MS).send()
        .recover(err -> Future.failedFuture(unreachable(url, err)))
        .compose(response -> response.statusCode() == 200 ? Future.succeededFuture(response)
            : Future.failedFuture(status(url, response.statusCode())));
  }

  private String versionUrl(String name, String version) {
    return baseUrl() + RegistryRoutes.MODELS + "/" + segment(name) + "/" + segment(version);
  }

  private static MirrorFailure unreachable(String url, Throwable err) {
    return new MirrorFailure(MirrorFailure.Reason.UNREACHABLE, url + " did not answer: " + err.getMessage(), err);
  }

  private static MirrorFailure status(String url, int status) {
    if (status == 404) {
      return new MirrorFailure(MirrorFailure.Reason.NOT_ON_PRIMARY, url + " is not published on the primary");
    }
    MirrorFailure.Reason reason = status >= 500 ? MirrorFailure.Reason.UNREACHABLE : MirrorFailure.Reason.BAD_ANSWER;
    return new MirrorFailure(reason, url + " answered " + status);
  }

  private static String segment(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
