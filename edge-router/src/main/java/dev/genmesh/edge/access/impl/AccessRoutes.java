package dev.genmesh.edge.access.impl;

import dev.genmesh.edge.impl.JsonReplies;
import dev.genmesh.edge.regions.impl.RegionClient;
import dev.genmesh.edge.regions.impl.RegionDirectory;
import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handlers that run before a route: who calls ({@link #identify}, 401 when refused), and
 * whether they may see the request of the path's {@code :id} ({@link #ownerOnly}: anyone but its
 * owner or an admin gets the same 404 as for an id that does not exist).
 */
public final class AccessRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(AccessRoutes.class);
  /** Context key of the {@link Caller}. */
  public static final String CALLER = "genmesh.caller";
  /** The subprotocol the edge selects for event streams (HttpServerOptions' WebSocket subprotocols). */
  public static final String EVENTS_SUBPROTOCOL = "genmesh.events";
  /** The prefix of the subprotocol that carries a browser's API key (see {@link #fromSubprotocols}). */
  public static final String BEARER_SUBPROTOCOL = "genmesh.bearer.";
  /** As {@code ImageProxy} reads an image's file name. */
  private static final Pattern IMAGE_FILE = Pattern.compile("(\\d{1,3})\\.png");

  private final Callers callers;
  private final Owners owners;
  private final RegionDirectory regions;
  private final long retryAfterSeconds;

  public AccessRoutes(Callers callers, Owners owners, RegionDirectory regions, long retryAfterSeconds) {
    this.callers = callers;
    this.owners = owners;
    this.regions = regions;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** The caller of this request, put there by {@link #identify}. */
  public static Caller caller(RoutingContext ctx) {
    Caller caller = ctx.get(CALLER);
    return caller == null ? Caller.anonymous() : caller;
  }

  /** Puts the {@link Caller} in the context, or answers 401 (503 when the user database cannot answer). */
  public void identify(RoutingContext ctx) {
    String authorization = ctx.request().getHeader("Authorization");
    if (authorization == null) {
      authorization = fromSubprotocols(ctx.request().getHeader("Sec-WebSocket-Protocol"));
    }
    Future<Callers.Outcome> outcome = callers.identify(authorization);
    if (outcome.isComplete()) {
      identified(ctx, outcome); // config keys, anonymous, cached: nothing to wait for
      return;
    }
    ctx.request().pause(); // a body or an upgrade waits for the lookup
    outcome.onComplete(done -> {
      ctx.request().resume(); // delivers from the next tick: the route's body handler listens by then
      identified(ctx, done);
    });
  }

  /**
   * A browser's WebSocket cannot send {@code Authorization}, only subprotocols: the page offers
   * {@code genmesh.events} (which the edge selects) and {@code genmesh.bearer.<key in base64url>}
   * (as Kubernetes carries a bearer token). Returns the header that key means, or null.
   */
  static String fromSubprotocols(String offered) {
    if (offered == null) {
      return null;
    }
    for (String protocol : offered.split(",")) {
      String trimmed = protocol.trim();
      if (trimmed.startsWith(BEARER_SUBPROTOCOL) && trimmed.length() > BEARER_SUBPROTOCOL.length()) {
        try {
          byte[] key = Base64.getUrlDecoder().decode(trimmed.substring(BEARER_SUBPROTOCOL.length()));
          return "Bearer " + new String(key, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException malformed) {
          return "Bearer " + trimmed; // not base64url: refused as the unknown key it is
        }
      }
    }
    return null;
  }

  private void identified(RoutingContext ctx, AsyncResult<Callers.Outcome> outcome) {
    if (outcome.failed()) {
      LOG.warn("{} {}: cannot check the API key, the user database does not answer ({})", ctx.request().method(),
          ctx.normalizedPath(), outcome.cause().toString());
      JsonReplies.unavailable(ctx, ErrorCode.USERS_UNAVAILABLE, "API keys cannot be checked now; retry later",
          retryAfterSeconds);
    } else if (outcome.result().refused()) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      JsonReplies.error(ctx, ApiError.of(ErrorCode.UNAUTHORIZED, outcome.result().refusal()));
    } else {
      ctx.put(CALLER, outcome.result().caller());
      ctx.next();
    }
  }

  /**
   * An image only its owner may fetch must not be kept by a shared cache (a CDN) and served to
   * another caller: its region's {@code public} becomes {@code private}.
   */
  public static void privateCache(RoutingContext ctx) {
    ctx.addHeadersEndHandler(v -> {
      String cache = ctx.response().headers().get("Cache-Control");
      if (cache != null && cache.startsWith("public")) {
        ctx.response().putHeader("Cache-Control", "private" + cache.substring("public".length()));
      }
    });
    ctx.next();
  }

  /** 403 unless the caller holds an admin key. */
  public void adminOnly(RoutingContext ctx) {
    if (caller(ctx).admin()) {
      ctx.next();
    } else {
      JsonReplies.error(ctx, ApiError.of(ErrorCode.FORBIDDEN, "this call needs an admin key"));
    }
  }

  /** What the route itself names in its 404 for an id that does not exist, so that both answers are the same. */
  private static String notFoundSubject(RoutingContext ctx, String id) {
    if (!ctx.normalizedPath().startsWith("/v1/images/")) {
      return "generation " + id;
    }
    Matcher file = IMAGE_FILE.matcher(String.valueOf(ctx.pathParam("file")));
    return file.matches() ? "image " + Integer.parseInt(file.group(1)) + " of generation " + id : "image";
  }

  /**
   * Lets the request's owner or an admin through; anyone else gets the 404 of a request that does
   * not exist. An id no region holds goes through: the route answers its own 404.
   */
  public void ownerOnly(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    Caller caller = caller(ctx);
    Optional<RegionClient> region = regions.forRequestId(id);
    if (caller.admin() || region.isEmpty()) {
      ctx.next();
      return;
    }
    Future<Optional<String>> asked = owners.ownerOf(region.get(), id);
    if (!asked.isComplete()) {
      ctx.request().pause();
    }
    asked.onComplete(owner -> {
      ctx.request().resume();
      if (owner.failed()) {
        LOG.warn("request {}: cannot learn its owner from region {} ({})", id, region.get().name(), owner.cause().toString());
        JsonReplies.unavailable(ctx, ErrorCode.REGION_UNAVAILABLE, "region " + region.get().name() + " cannot answer now",
            retryAfterSeconds);
      } else if (owner.result().isPresent() && caller.maySee(owner.result().get())) {
        ctx.next();
      } else {
        if (owner.result().isPresent()) {
          LOG.debug("request {}: {} is not its owner; answering 404", id, caller.user());
        }
        JsonReplies.notFound(ctx, notFoundSubject(ctx, id));
      }
    });
  }
}
