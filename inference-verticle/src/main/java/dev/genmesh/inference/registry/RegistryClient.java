package dev.genmesh.inference.registry;

import dev.genmesh.registry.Sha256;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;

/**
 * A region's model registry over its regional API (region-node/API.md, "Model registry").
 * Blocking calls: run them on a worker thread.
 */
final class RegistryClient {
  static final String MODELS = "/regional/v1/models";
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration LISTING_TIMEOUT = Duration.ofSeconds(10);

  private final String base;
  private final Duration downloadTimeout;
  private final HttpClient http;

  RegistryClient(String apiUrl, long downloadTimeoutMs) {
    this.base = apiUrl.endsWith("/") ? apiUrl.substring(0, apiUrl.length() - 1) : apiUrl;
    this.downloadTimeout = Duration.ofMillis(downloadTimeoutMs);
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(CONNECT_TIMEOUT).build();
  }

  String base() {
    return base;
  }

  /** {@code GET /regional/v1/models}. */
  JsonObject listing() throws IOException {
    return json(get(MODELS, LISTING_TIMEOUT), MODELS);
  }

  /** The manifest of a published version, as the registry stores it. */
  byte[] manifest(String name, String version) throws IOException {
    String path = MODELS + "/" + segment(name) + "/" + segment(version) + "/manifest.json";
    HttpResponse<byte[]> response = send(path, LISTING_TIMEOUT, HttpResponse.BodyHandlers.ofByteArray());
    expectOk(response.statusCode(), path);
    return response.body();
  }

  /**
   * Streams one file of a version into {@code target}, hashing as it writes.
   *
   * @throws ChecksumMismatch when the bytes are not the ones the manifest lists
   */
  void download(String name, String version, String file, Path target, String sha256, long size) throws IOException {
    StringBuilder path = new StringBuilder(MODELS + "/" + segment(name) + "/" + segment(version) + "/files");
    for (String part : file.split("/")) {
      path.append('/').append(segment(part));
    }
    HttpResponse<InputStream> response = send(path.toString(), downloadTimeout, HttpResponse.BodyHandlers.ofInputStream());
    MessageDigest digest = Sha256.newDigest();
    long written = 0;
    try (InputStream in = response.body()) {
      expectOk(response.statusCode(), path.toString());
      Files.createDirectories(target.getParent());
      try (OutputStream out = Files.newOutputStream(target)) {
        byte[] buffer = new byte[1 << 16];
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
          digest.update(buffer, 0, n);
          out.write(buffer, 0, n);
          written += n;
        }
      }
    }
    String actual = Sha256.hex(digest);
    if (written != size || !actual.equalsIgnoreCase(sha256)) {
      Files.deleteIfExists(target);
      throw new ChecksumMismatch(file, written != size
          ? "arrived with " + written + " bytes, the manifest says " + size
          : "arrived with SHA-256 " + actual + ", the manifest says " + sha256);
    }
  }

  /** The registry answered, but the bytes of a file are not the ones its manifest lists. */
  static final class ChecksumMismatch extends IOException {
    final String file;

    ChecksumMismatch(String file, String reason) {
      super("model file '" + file + "' " + reason);
      this.file = file;
    }
  }

  /** The registry does not have it (404). */
  static final class NotPublished extends IOException {
    NotPublished(String path) {
      super(path + " is not published");
    }
  }

  private HttpResponse<byte[]> get(String path, Duration timeout) throws IOException {
    HttpResponse<byte[]> response = send(path, timeout, HttpResponse.BodyHandlers.ofByteArray());
    expectOk(response.statusCode(), path);
    return response;
  }

  private <T> HttpResponse<T> send(String path, Duration timeout, HttpResponse.BodyHandler<T> body) throws IOException {
    HttpRequest request = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout).GET().build();
    try {
      return http.send(request, body);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while fetching " + base + path, e);
    }
  }

  private void expectOk(int status, String path) throws IOException {
    if (status == 404) {
      throw new NotPublished(base + path);
    }
    if (status != 200) {
      throw new IOException(base + path + " answered " + status);
    }
  }

  private JsonObject json(HttpResponse<byte[]> response, String path) throws IOException {
    try {
      return new JsonObject(new String(response.body(), StandardCharsets.UTF_8));
    } catch (DecodeException e) {
      throw new IOException(base + path + " did not answer JSON: " + e.getMessage());
    }
  }

  private static String segment(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
