package dev.genmesh.region.api.impl;

import static dev.genmesh.region.api.impl.JsonReplies.error;
import static dev.genmesh.region.api.impl.JsonReplies.json;

import dev.genmesh.images.ImageStore;
import dev.genmesh.images.ImageStores;
import dev.genmesh.images.NoSuchObjectException;
import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.protocol.RequestIds;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.protocol.StoredImage;
import dev.genmesh.region.images.ImageCopies;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.RequestRow;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A completed request's images, read from the region's object store by the keys its log recorded
 * (region-node/API.md, "Images"), so every node of the region serves the same image:
 * {@code GET|HEAD /regional/v1/images/:id/:index.png} with an ETag (the image's SHA-256), immutable
 * cache headers, 304 for a matching {@code If-None-Match} (without a store call) and single byte
 * ranges (206, 416); {@code GET .../:index.png/link} answers a presigned URL of the object instead,
 * for an edge that redirects.
 */
public final class ImageRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(ImageRoutes.class);
  private static final Pattern IMAGE_FILE = Pattern.compile("(\\d{1,4})\\.png");

  /** An image to serve and the bucket it is in (the region's own, or the copies it holds for another region). */
  private record Source(StoredImage image, ImageStore store) {}

  private final RequestLog log;
  private final ImageStore images;
  private final ImageCopies copies;
  private final ApiFailures failures;
  private final RegionMetrics metrics;
  private final Duration linkTtl;
  private final Clock clock;

  /** @param copies the copies of other regions' images this region holds, served when the request is not in its log */
  public ImageRoutes(RequestLog log, ImageStore images, ImageCopies copies, ApiFailures failures, RegionMetrics metrics,
      Duration linkTtl, Clock clock) {
    this.log = log;
    this.images = images;
    this.copies = copies;
    this.failures = failures;
    this.metrics = metrics;
    this.linkTtl = linkTtl;
    this.clock = clock;
  }

  /** The image's bytes (or a range of them, or only its headers for HEAD). */
  public void handle(RoutingContext ctx) {
    deliverable(ctx).onSuccess(source -> {
      if (source != null) {
        send(ctx, source);
      }
    });
  }

  /** {@code {url, expires_at, etag, size, content_type}}: where the image can be read without credentials, for a while. */
  public void link(RoutingContext ctx) {
    deliverable(ctx).onSuccess(source -> {
      if (source == null) {
        return;
      }
      StoredImage image = source.image();
      ctx.response().putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
      json(ctx, 200, new JsonObject()
          .put("url", source.store().presignGet(image.key(), linkTtl))
          .put("expires_at", clock.instant().plus(linkTtl).toString())
          .put("etag", etag(image))
          .put("size", image.size())
          .put("content_type", ImageStores.PNG));
    });
  }

  /**
   * The image asked for, when its request is COMPLETED (it passed the safety gate); otherwise the
   * answer is sent here and the future holds null: 409 not_ready while the request may still
   * complete, 404 when it never will or has no such image. A request not in this region's log may
   * be another region's whose copies this region holds (its own region being down, the edge asks here).
   */
  private Future<Source> deliverable(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    Matcher file = IMAGE_FILE.matcher(ctx.pathParam("file"));
    if (!RequestIds.isWellFormed(id) || !file.matches()) {
      error(ctx, ApiError.of(ErrorCode.NOT_FOUND, "no such image"));
      return Future.succeededFuture();
    }
    int index = Integer.parseInt(file.group(1));
    return log.find(id).compose(found -> found.isPresent()
            ? Future.succeededFuture(image(ctx, id, index, found).map(image -> new Source(image, images)).orElse(null))
            : copied(ctx, id, index))
        .recover(err -> {
          failures.storageError(ctx, "image", id, err);
          return Future.succeededFuture();
        });
  }

  /** Image {@code index} of another region's completed request, from the copies held here; 404 when none is. */
  private Future<Source> copied(RoutingContext ctx, String id, int index) {
    return copies.find(id).map(manifest -> {
      if (manifest.isPresent() && index < manifest.get().images().size()) {
        return new Source(manifest.get().images().get(index), copies.held().orElseThrow());
      }
      error(ctx, ApiError.of(ErrorCode.NOT_FOUND, manifest.isPresent()
          ? "request " + id + " has no image " + index : "no such image"));
      return null;
    });
  }

  private static Optional<StoredImage> image(RoutingContext ctx, String id, int index, Optional<RequestRow> row) {
    RequestStatus status = row.orElseThrow().status();
    if (status == RequestStatus.COMPLETED) {
      if (index < row.get().images().size()) {
        return Optional.of(row.get().images().get(index));
      }
      error(ctx, ApiError.of(ErrorCode.NOT_FOUND, "request " + id + " has no image " + index));
    } else if (status.isTerminal()) {
      error(ctx, ApiError.of(ErrorCode.NOT_FOUND, "request " + id + " is " + status.wireName() + ": it has no images"));
    } else {
      error(ctx, ApiError.of(ErrorCode.NOT_READY, "request " + id + " is " + status.wireName()
          + ": its images are served once it completes"));
    }
    return Optional.empty();
  }

  private void send(RoutingContext ctx, Source source) {
    StoredImage image = source.image();
    ImageStore store = source.store();
    String etag = etag(image);
    HttpServerResponse response = ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, ImageStores.PNG)
        .putHeader(HttpHeaders.CACHE_CONTROL, ImageStores.IMMUTABLE)
        .putHeader(HttpHeaders.ETAG, etag)
        .putHeader(HttpHeaders.ACCEPT_RANGES, "bytes");
    if (matches(ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH), etag)) {
      response.setStatusCode(304).end();
      return;
    }
    String ifRange = ctx.request().getHeader("If-Range");
    ByteRange range = ifRange == null || ifRange.trim().equals(etag)
        ? ByteRange.parse(ctx.request().getHeader("Range"), image.size()) : null;
    if (range != null && !range.satisfiable()) {
      response.putHeader(HttpHeaders.CONTENT_RANGE, range.contentRange(image.size()));
      error(ctx, ApiError.of(ErrorCode.RANGE_NOT_SATISFIABLE, "the image has " + image.size() + " bytes"));
      return;
    }
    if (range != null) {
      response.setStatusCode(206).putHeader(HttpHeaders.CONTENT_RANGE, range.contentRange(image.size()));
    }
    long length = range == null ? image.size() : range.length();
    if (ctx.request().method() == HttpMethod.HEAD) {
      response.putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(length)).end();
      return;
    }
    Future<Buffer> bytes = range == null ? store.get(image.key()) : store.get(image.key(), range.first(), range.last());
    bytes.onComplete(ar -> {
      if (ar.succeeded()) {
        response.end(ar.result()).onFailure(err -> LOG.debug("image {} not sent: {}", image.key(), err.toString()));
      } else {
        storeFailed(ctx, image, store, ar.cause());
      }
    });
  }

  private void storeFailed(RoutingContext ctx, StoredImage image, ImageStore store, Throwable err) {
    ctx.response().setStatusCode(200).headers().remove(HttpHeaders.CONTENT_RANGE).remove(HttpHeaders.ETAG)
        .remove(HttpHeaders.CACHE_CONTROL).remove(HttpHeaders.ACCEPT_RANGES);
    if (err instanceof NoSuchObjectException) {
      metrics.systemError("image_missing");
      LOG.error("image {} of a completed request is not in bucket {}", image.key(), store.bucket());
      error(ctx, ApiError.of(ErrorCode.NOT_FOUND, "image " + image.key() + " is no longer stored"));
      return;
    }
    metrics.systemError("image_store");
    LOG.warn("image {}: object store unavailable: {}", image.key(), err.toString());
    ctx.response().putHeader(HttpHeaders.RETRY_AFTER, ApiFailures.RETRY_AFTER_SECONDS);
    error(ctx, ApiError.of(ErrorCode.STORAGE_UNAVAILABLE, "the region's image store is unavailable, retry shortly"));
  }

  /** Strong and content-based: the same on every node and through every store. */
  static String etag(StoredImage image) {
    return "\"" + image.sha256() + "\"";
  }

  /** If-None-Match (a list of entity tags, or *) against the current tag, compared weakly (RFC 9110). */
  static boolean matches(String ifNoneMatch, String etag) {
    if (ifNoneMatch == null) {
      return false;
    }
    if (ifNoneMatch.trim().equals("*")) {
      return true;
    }
    for (String candidate : ifNoneMatch.split(",")) {
      String tag = candidate.trim();
      if ((tag.startsWith("W/") ? tag.substring(2) : tag).equals(etag)) {
        return true;
      }
    }
    return false;
  }
}
