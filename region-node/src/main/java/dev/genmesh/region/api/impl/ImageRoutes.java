package dev.genmesh.region.api.impl;

import static dev.genmesh.region.api.impl.JsonReplies.error;

import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.protocol.RequestIds;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.region.node.ImageStore;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.RequestRow;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code GET /regional/v1/images/:id/:index.png}: a completed request's images, cacheable for ever. */
public final class ImageRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(ImageRoutes.class);
  private static final Pattern IMAGE_FILE = Pattern.compile("(\\d{1,4})\\.png");

  private final Vertx vertx;
  private final RequestLog log;
  private final ImageStore images;
  private final ApiFailures failures;

  public ImageRoutes(Vertx vertx, RequestLog log, ImageStore images, ApiFailures failures) {
    this.vertx = vertx;
    this.log = log;
    this.images = images;
    this.failures = failures;
  }

  public void handle(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    Matcher file = IMAGE_FILE.matcher(ctx.pathParam("file"));
    if (!RequestIds.isWellFormed(id) || !file.matches()) {
      error(ctx, ApiError.of(ErrorCode.NOT_FOUND, "no such image"));
      return;
    }
    int index = Integer.parseInt(file.group(1));
    log.find(id).onComplete(found -> {
      if (found.failed()) {
        failures.storageError(ctx, "image", id, found.cause());
      } else if (deliverable(ctx, id, index, found.result())) {
        sendImage(ctx, id, images.file(id, index));
      }
    });
  }

  /**
   * Only a COMPLETED request's images are served: they passed the safety gate. Anything else
   * answers here: 409 not_ready while the request may still complete (safety_pending,
   * generating...), 404 when it never will or has no such image.
   */
  private static boolean deliverable(RoutingContext ctx, String id, int index, Optional<RequestRow> row) {
    if (row.isEmpty()) {
      error(ctx, ApiError.of(ErrorCode.NOT_FOUND, "no such image"));
      return false;
    }
    RequestStatus status = row.get().status();
    if (status == RequestStatus.COMPLETED) {
      Integer count = row.get().imageCount();
      if (count != null && index < count) {
        return true;
      }
      error(ctx, ApiError.of(ErrorCode.NOT_FOUND, "request " + id + " has no image " + index));
    } else if (status.isTerminal()) {
      error(ctx, ApiError.of(ErrorCode.NOT_FOUND, "request " + id + " is " + status.wireName() + ": it has no images"));
    } else {
      error(ctx, ApiError.of(ErrorCode.NOT_READY, "request " + id + " is " + status.wireName()
          + ": its images are served once it completes"));
    }
    return false;
  }

  private void sendImage(RoutingContext ctx, String id, Path path) {
    vertx.fileSystem().props(path.toString()).onComplete(ar -> {
      if (ar.failed() || !ar.result().isRegularFile()) {
        error(ctx, ApiError.of(ErrorCode.NOT_FOUND, "no such image"));
        return;
      }
      String etag = "\"" + Long.toHexString(ar.result().size()) + "-" + Long.toHexString(ar.result().lastModifiedTime()) + "\"";
      ctx.response()
          .putHeader(HttpHeaders.CONTENT_TYPE, "image/png")
          .putHeader(HttpHeaders.CACHE_CONTROL, "public, max-age=31536000, immutable")
          .putHeader(HttpHeaders.ETAG, etag);
      if (etag.equals(ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH))) {
        ctx.response().setStatusCode(304).end();
      } else {
        ctx.response().sendFile(path.toString()).onFailure(err -> LOG.debug("request {}: image not sent: {}", id, err.toString()));
      }
    });
  }
}
