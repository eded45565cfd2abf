package dev.genmesh.safety.impl;

import dev.genmesh.protocol.safety.SafetyCheck;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.WebClient;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Reads the images of a check from the region's object store by their presigned URLs (the
 * service needs no store credentials), and compares each with the size and SHA-256 the worker
 * reported. An image the store does not have (404), or whose bytes do not match, is a reason to
 * block: the request can never be delivered as it was reported. Any other failure (expired URL,
 * store down, timeout) fails the fetch: the service answers 503 and the region asks again later.
 */
public final class ImageFetch {
  /** Far above a 1024 px PNG; a larger answer is not read. */
  static final long MAX_IMAGE_BYTES = 32L * 1024 * 1024;

  /** One image: its bytes, or why it must be blocked without looking at them. */
  public record Fetched(byte[] bytes, String problem) {}

  private final WebClient http;
  private final long timeoutMs;

  public ImageFetch(WebClient http, long timeoutMs) {
    this.http = http;
    this.timeoutMs = timeoutMs;
  }

  /** Every image, in order; fails if any could not be read for a reason that may pass. */
  public Future<List<Fetched>> all(List<SafetyCheck.Image> images) {
    List<Future<Fetched>> reads = new ArrayList<>();
    for (int i = 0; i < images.size(); i++) {
      reads.add(one(i, images.get(i)));
    }
    return Future.all(reads).map(done -> {
      List<Fetched> out = new ArrayList<>();
      for (int i = 0; i < images.size(); i++) {
        out.add(done.resultAt(i));
      }
      return out;
    });
  }

  private Future<Fetched> one(int index, SafetyCheck.Image image) {
    String name = "image " + index;
    return http.getAbs(image.url()).timeout(timeoutMs).send().compose(response -> {
      int status = response.statusCode();
      if (status == 404) {
        return Future.succeededFuture(new Fetched(null, name + " is not in the region's object store"));
      }
      if (status != 200) {
        return Future.failedFuture(name + ": the object store answered HTTP " + status);
      }
      Buffer body = response.body() == null ? Buffer.buffer() : response.body();
      if (body.length() > MAX_IMAGE_BYTES) {
        return Future.succeededFuture(new Fetched(null, name + " is larger than " + MAX_IMAGE_BYTES + " bytes"));
      }
      byte[] bytes = body.getBytes();
      if (image.size() >= 0 && bytes.length != image.size()) {
        return Future.succeededFuture(new Fetched(null, name + " has " + bytes.length + " bytes, the worker reported "
            + image.size()));
      }
      if (image.sha256() != null && !image.sha256().equalsIgnoreCase(sha256(bytes))) {
        return Future.succeededFuture(new Fetched(null, name + " does not match the SHA-256 the worker reported"));
      }
      return Future.succeededFuture(new Fetched(bytes, null));
    });
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM ships SHA-256", e);
    }
  }
}
