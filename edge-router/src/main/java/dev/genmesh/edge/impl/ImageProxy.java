package dev.genmesh.edge.impl;

import dev.genmesh.edge.regions.impl.RegionClient;
import dev.genmesh.edge.regions.impl.RegionDirectory;
import dev.genmesh.protocol.ErrorCode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.client.HttpResponse;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/images/{id}/{index}.png}: the region's PNG with its cache headers, and 304
 * when the client already holds that version.
 */
public final class ImageProxy {
  private static final Logger LOG = LoggerFactory.getLogger(ImageProxy.class);
  private static final Pattern FILE = Pattern.compile("(\\d{1,3})\\.png");
  private static final List<String> PASSED_HEADERS = List.of("Content-Type", "Cache-Control", "ETag", "Last-Modified", "Expires");

  private final RegionDirectory regions;
  private final long retryAfterSeconds;

  public ImageProxy(RegionDirectory regions, long retryAfterSeconds) {
    this.regions = regions;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public void handle(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    Matcher file = FILE.matcher(ctx.pathParam("file"));
    RegionClient region = regions.forRequestId(id).orElse(null);
    if (region == null || !file.matches()) {
      JsonReplies.notFound(ctx, "image");
      return;
    }
    int index = Integer.parseInt(file.group(1));
    String ifNoneMatch = ctx.request().getHeader("If-None-Match");
    region.image(id, index, ifNoneMatch).onComplete(answer -> {
      if (answer.failed() || answer.result().statusCode() >= 500) {
        String why = answer.failed() ? answer.cause().toString() : "answered " + answer.result().statusCode();
        LOG.warn("request {}: region {} could not serve image {} ({})", id, region.name(), index, why);
        JsonReplies.unavailable(ctx, ErrorCode.REGION_UNAVAILABLE, "region " + region.name() + " cannot serve images now", retryAfterSeconds);
        return;
      }
      HttpResponse<Buffer> image = answer.result();
      int status = image.statusCode();
      if (status == 404) {
        JsonReplies.notFound(ctx, "image " + index + " of generation " + id);
      } else if (status == 304 || (status == 200 && matches(ifNoneMatch, image.getHeader("ETag")))) {
        copyHeaders(image, ctx.response());
        ctx.response().headers().remove("Content-Type");
        ctx.response().setStatusCode(304).end();
      } else if (status == 200) {
        copyHeaders(image, ctx.response());
        Buffer body = image.body() == null ? Buffer.buffer() : image.body();
        ctx.response().setStatusCode(200).end(body);
      } else {
        JsonReplies.send(ctx, status, image.body() == null ? Buffer.buffer() : image.body());
      }
    });
  }

  private static void copyHeaders(HttpResponse<Buffer> from, HttpServerResponse to) {
    for (String name : PASSED_HEADERS) {
      String value = from.getHeader(name);
      if (value != null) {
        to.putHeader(name, value);
      }
    }
  }

  /** If-None-Match (a list of entity tags, or *) against the current tag, compared weakly (RFC 9110). */
  static boolean matches(String ifNoneMatch, String etag) {
    if (ifNoneMatch == null || etag == null) {
      return false;
    }
    if (ifNoneMatch.trim().equals("*")) {
      return true;
    }
    String current = opaque(etag);
    for (String candidate : ifNoneMatch.split(",")) {
      if (opaque(candidate).equals(current)) {
        return true;
      }
    }
    return false;
  }

  private static String opaque(String tag) {
    String trimmed = tag.trim();
    return trimmed.startsWith("W/") ? trimmed.substring(2) : trimmed;
  }
}
