package dev.genmesh.edge.access.impl;

import dev.genmesh.edge.impl.JsonReplies;
import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Images shared on purpose: {@code POST /v1/images/{id}/{n}.png/share} (the owner, after
 * {@link AccessRoutes#ownerOnly}) answers a link {@code /v1/shared/{id}/{n}.png?expires=S&sig=X}
 * that anyone may fetch until {@code S} (epoch seconds), for that one image only: {@code X} is the
 * HMAC-SHA256 of {@code id/n/S} under {@code users.share_key}. A link cannot be revoked before it
 * expires (rotate the key to revoke them all).
 */
public final class ShareLinks {
  private static final String HMAC = "HmacSHA256";
  private static final Pattern FILE = Pattern.compile("\\d{1,3}\\.png");
  static final long DEFAULT_TTL_S = 3600;

  private final SecretKeySpec key;
  private final long maxTtlSeconds;
  private final Clock clock;

  /** @param secret the HMAC key; empty: a random one for this process */
  public ShareLinks(String secret, long maxTtlMs, Clock clock) {
    byte[] bytes = secret.isEmpty() ? random() : secret.getBytes(StandardCharsets.UTF_8);
    this.key = new SecretKeySpec(bytes, HMAC);
    this.maxTtlSeconds = Math.max(1, maxTtlMs / 1000);
    this.clock = clock;
  }

  /** Answers a new link; the body may ask {@code {"ttl_s": N}} (default an hour, at most {@code users.share_max_ttl_ms}). */
  public void share(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    String file = ctx.pathParam("file");
    if (!FILE.matcher(file).matches()) {
      JsonReplies.notFound(ctx, "image");
      return;
    }
    long ttl = DEFAULT_TTL_S;
    JsonObject body;
    try {
      body = ctx.body().length() == 0 ? new JsonObject() : ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      body = null;
    }
    if (body == null) {
      JsonReplies.error(ctx, ApiError.of(ErrorCode.INVALID_JSON, "the body must be a JSON object, e.g. {\"ttl_s\": 3600}"));
      return;
    }
    Object asked = body.getValue("ttl_s");
    if (asked != null) {
      if (!(asked instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.longValue() < 1
          || n.longValue() > maxTtlSeconds) {
        JsonReplies.error(ctx, ApiError.onField(ErrorCode.OUT_OF_RANGE, "ttl_s",
            "ttl_s must be a whole number of seconds from 1 to " + maxTtlSeconds));
        return;
      }
      ttl = n.longValue();
    }
    long expires = clock.instant().getEpochSecond() + ttl;
    String url = "/v1/shared/" + id + "/" + file + "?expires=" + expires + "&sig=" + sign(id, file, expires);
    JsonReplies.json(ctx, 201, new JsonObject().put("url", url).put("expires_at", Instant.ofEpochSecond(expires).toString()));
  }

  /** Lets a request with a valid, unexpired link for this image through; 404 otherwise (403 once expired). */
  public void verify(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    String file = ctx.pathParam("file");
    String sig = ctx.request().getParam("sig");
    long expires;
    try {
      expires = Long.parseLong(String.valueOf(ctx.request().getParam("expires")));
    } catch (NumberFormatException e) {
      expires = -1;
    }
    if (expires < 0 || sig == null || !MessageDigest.isEqual(sig.getBytes(StandardCharsets.UTF_8),
        sign(id, file, expires).getBytes(StandardCharsets.UTF_8))) {
      JsonReplies.notFound(ctx, "shared image");
      return;
    }
    if (clock.instant().getEpochSecond() >= expires) {
      JsonReplies.error(ctx, ApiError.of(ErrorCode.FORBIDDEN, "this share link expired at " + Instant.ofEpochSecond(expires)));
      return;
    }
    // Caches may keep the image, but not past the link's life.
    long left = expires - clock.instant().getEpochSecond();
    ctx.addHeadersEndHandler(v -> {
      if (ctx.response().headers().contains("Cache-Control")) {
        ctx.response().putHeader("Cache-Control", "public, max-age=" + left);
      }
    });
    ctx.next();
  }

  String sign(String id, String file, long expires) {
    try {
      Mac mac = Mac.getInstance(HMAC);
      mac.init(key);
      byte[] digest = mac.doFinal((id + "/" + file + "/" + expires).getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HMAC-SHA256 is part of every JDK", e);
    }
  }

  private static byte[] random() {
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    return bytes;
  }
}
