package dev.genmesh.edge.impl;

import dev.genmesh.config.ImagesConfig;
import dev.genmesh.edge.regions.impl.RegionClient;
import dev.genmesh.edge.regions.impl.RegionDirectory;
import dev.genmesh.protocol.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.client.HttpResponse;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET|HEAD /v1/images/{id}/{index}.png}, CDN-friendly (edge-router/API.md, "Images"): the
 * image as its region serves it from the region's object store, with immutable cache headers and
 * a content ETag, 304 when the client holds that version, and byte ranges (206, 416) passed through
 * ({@code images.edge_delivery: proxy}, the default); or a 302 to a short-lived presigned URL of the
 * object ({@code redirect}), so that the bytes go from the store to the client directly. Either way
 * only a completed request's images are served: 409 {@code not_ready} before, 404 when it never will.
 * When the request's region does not answer (or answers 5xx), the region that holds copies of its
 * images ({@code images.copies}, docs/architecture.md "Images across regions") is asked instead.
 */
public final class ImageProxy {
  private static final Logger LOG = LoggerFactory.getLogger(ImageProxy.class);
  private static final Pattern FILE = Pattern.compile("(\\d{1,3})\\.png");
  private static final List<String> PASSED_HEADERS = List.of("Content-Type", "Cache-Control", "ETag", "Last-Modified",
      "Expires", "Accept-Ranges", "Content-Range");
  private static final List<String> CONDITIONS = List.of("If-None-Match", "Range", "If-Range");
  /** The immutable headers of an image (the region's, repeated here for a 304 the edge answers itself). */
  private static final String IMMUTABLE = "public, max-age=31536000, immutable";

  private final RegionDirectory regions;
  /** Region name → the region holding copies of its images, when one does. */
  private final Function<String, Optional<RegionClient>> copyHolder;
  private final long retryAfterSeconds;
  private final ImagesConfig.EdgeDelivery delivery;
  private final long redirectMaxAgeSeconds;

  public ImageProxy(RegionDirectory regions, Function<String, Optional<RegionClient>> copyHolder,
      long retryAfterSeconds, ImagesConfig.EdgeDelivery delivery, long presignTtlMs) {
    this.regions = regions;
    this.copyHolder = copyHolder;
    this.retryAfterSeconds = retryAfterSeconds;
    this.delivery = delivery;
    // A browser may reuse a redirect while its URL is still good for a while after.
    this.redirectMaxAgeSeconds = Math.max(0, presignTtlMs / 2000);
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
    if (delivery == ImagesConfig.EdgeDelivery.REDIRECT && ctx.request().method() == HttpMethod.GET) {
      ask(ctx, region, true, id, index, r -> r.imageLink(id, index), link -> redirect(ctx, link));
    } else {
      MultiMap conditions = MultiMap.caseInsensitiveMultiMap();
      CONDITIONS.forEach(name -> {
        String value = ctx.request().getHeader(name);
        if (value != null) {
          conditions.add(name, value);
        }
      });
      ask(ctx, region, true, id, index, r -> r.image(ctx.request().method(), id, index, conditions),
          image -> proxy(ctx, image, conditions.get("If-None-Match")));
    }
  }

  /**
   * The region's answer to {@code call}: 2xx/304 to {@code served}; 404, 409 and the rest passed on;
   * no answer or 5xx: the holder of the region's copies is asked when {@code origin} (once), else 503.
   */
  private void ask(RoutingContext ctx, RegionClient region, boolean origin, String id, int index,
      Function<RegionClient, Future<HttpResponse<Buffer>>> call, Consumer<HttpResponse<Buffer>> served) {
    call.apply(region).onComplete(answer -> {
      if (answer.failed() || answer.result().statusCode() >= 500) {
        String why = answer.failed() ? answer.cause().toString() : "answered " + answer.result().statusCode();
        Optional<RegionClient> holder = origin ? copyHolder.apply(region.name()) : Optional.empty();
        if (holder.isPresent()) {
          LOG.info("request {}: region {} could not serve image {} ({}); asking {}, which holds its copies", id,
              region.name(), index, why, holder.get().name());
          ask(ctx, holder.get(), false, id, index, call, served);
          return;
        }
        LOG.warn("request {}: region {} could not serve image {} ({})", id, region.name(), index, why);
        JsonReplies.unavailable(ctx, ErrorCode.REGION_UNAVAILABLE, "region " + region.name() + " cannot serve images now",
            retryAfterSeconds);
        return;
      }
      HttpResponse<Buffer> response = answer.result();
      int status = response.statusCode();
      if (!origin && status == 404) {
        // The holder has no copy (not completed, or not copied yet): the origin may still have it.
        JsonReplies.unavailable(ctx, ErrorCode.REGION_UNAVAILABLE, "the region of generation " + id
            + " does not answer and region " + region.name() + " holds no copy of image " + index, retryAfterSeconds);
      } else if (status == 404) {
        JsonReplies.notFound(ctx, "image " + index + " of generation " + id);
      } else if (status == 200 || status == 206 || status == 304 || status == 416) {
        served.accept(response);
      } else {
        JsonReplies.send(ctx, status, response.body() == null ? Buffer.buffer() : response.body());
      }
    });
  }

  private static void proxy(RoutingContext ctx, HttpResponse<Buffer> image, String ifNoneMatch) {
    int status = image.statusCode();
    HttpServerResponse response = ctx.response();
    copyHeaders(image, response);
    if (status == 304 || (status == 200 && matches(ifNoneMatch, image.getHeader("ETag")))) {
      response.headers().remove("Content-Type").remove("Content-Range");
      response.setStatusCode(304).end();
    } else if (ctx.request().method() == HttpMethod.HEAD) {
      String length = image.getHeader("Content-Length");
      if (length != null) {
        response.putHeader("Content-Length", length);
      }
      response.setStatusCode(status).end();
    } else if (status == 416) {
      JsonReplies.send(ctx, status, image.body() == null ? Buffer.buffer() : image.body());
    } else {
      response.setStatusCode(status).end(image.body() == null ? Buffer.buffer() : image.body());
    }
  }

  /** 304 when the client holds the current version (no redirect needed), else 302 to the presigned URL. */
  private void redirect(RoutingContext ctx, HttpResponse<Buffer> answer) {
    JsonObject link;
    try {
      link = answer.bodyAsJsonObject();
    } catch (RuntimeException e) {
      link = null;
    }
    if (link == null || link.getString("url") == null) {
      JsonReplies.unavailable(ctx, ErrorCode.REGION_UNAVAILABLE, "the region gave no link to the image", retryAfterSeconds);
      return;
    }
    String etag = link.getString("etag");
    HttpServerResponse response = ctx.response();
    if (etag != null && matches(ctx.request().getHeader("If-None-Match"), etag)) {
      response.putHeader("ETag", etag).putHeader("Cache-Control", IMMUTABLE).setStatusCode(304).end();
      return;
    }
    response.putHeader("Location", link.getString("url"))
        .putHeader("Cache-Control", "private, max-age=" + redirectMaxAgeSeconds)
        .setStatusCode(302).end();
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
