package dev.genmesh.registry;

import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The region's model registry over HTTP (region-node/API.md, "Model registry"): the listing,
 * each version's manifest, and its files, streamed with the SHA-256 as ETag. Only files a
 * manifest lists can be fetched, so no path leads out of a model folder.
 */
public final class RegistryRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(RegistryRoutes.class);
  public static final String MODELS = "/regional/v1/models";
  private static final String IMMUTABLE = "public, max-age=31536000, immutable";
  /** Threads of the pool a registry served on its own reads and hashes on. */
  private static final int IO_THREADS = 4;

  private final ModelRegistry registry;
  private final WorkerExecutor io;
  private final RegistryMirror mirror;

  /**
   * @param registry null when this node has no registry: the listing is empty, every model unknown
   * @param io where the blocking reads and hashing run (the serving node's named pool)
   */
  public RegistryRoutes(ModelRegistry registry, WorkerExecutor io) {
    this(registry, io, null);
  }

  /**
   * @param mirror when this region follows a primary registry: a version asked for and not held
   *     here is pulled first (answered once held, or 503 with Retry-After), and the listing says
   *     whom it follows. Null: a registry standing alone
   */
  public RegistryRoutes(ModelRegistry registry, WorkerExecutor io, RegistryMirror mirror) {
    this.registry = registry;
    this.io = Objects.requireNonNull(io, "io");
    this.mirror = registry == null ? null : mirror;
  }

  /** Adds the registry routes to a router (GET only). */
  public void mount(Router router) {
    router.get(MODELS).handler(this::listing);
    router.get(MODELS + "/:name/:version/manifest.json").handler(this::manifest);
    router.get(MODELS + "/:name/:version/files/*").handler(this::file);
  }

  /**
   * A router with only these routes, for a registry served on its own.
   *
   * @param io where the blocking reads run; null: the shared pool {@code genmesh-registry-io},
   *     closed with {@code vertx}
   */
  public static Router router(Vertx vertx, ModelRegistry registry, WorkerExecutor io) {
    return router(vertx, registry, io, null);
  }

  /** {@link #router(Vertx, ModelRegistry, WorkerExecutor)} of a registry following a primary. */
  public static Router router(Vertx vertx, ModelRegistry registry, WorkerExecutor io, RegistryMirror mirror) {
    Router router = Router.router(vertx);
    WorkerExecutor pool = io != null ? io : vertx.createSharedWorkerExecutor("genmesh-registry-io", IO_THREADS);
    new RegistryRoutes(registry, pool, mirror).mount(router);
    router.errorHandler(404, ctx -> error(ctx, ApiError.of(ErrorCode.NOT_FOUND, "no such route: " + ctx.request().path())));
    return router;
  }

  private void listing(RoutingContext ctx) {
    blocking(ctx, () -> registry == null ? new JsonObject().put("models", new JsonArray()) : registry.listing())
        .onSuccess(body -> {
          if (mirror != null) {
            body.put("mirror", mirror.status());
          }
          ctx.response().putHeader(HttpHeaders.CACHE_CONTROL, "no-cache");
          json(ctx, 200, body);
        });
  }

  private void manifest(RoutingContext ctx) {
    manifest(ctx, mirror != null);
  }

  private void manifest(RoutingContext ctx, boolean mayPull) {
    String name = ctx.pathParam("name");
    String version = ctx.pathParam("version");
    blocking(ctx, () -> {
      Optional<PublishedVersion> published = registry == null ? Optional.empty() : registry.version(name, version);
      return published.map(v -> readBytes(v.dir().resolve(BundleCheck.MANIFEST)));
    }).onSuccess(bytes -> {
      if (bytes.isEmpty()) {
        missing(ctx, name, version, mayPull, () -> manifest(ctx, false));
        return;
      }
      String etag = "\"" + Sha256.of(bytes.get()) + "\"";
      if (notModified(ctx, etag)) {
        return;
      }
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(Buffer.buffer(bytes.get()));
    });
  }

  private void file(RoutingContext ctx) {
    file(ctx, mirror != null);
  }

  private void file(RoutingContext ctx, boolean mayPull) {
    String name = ctx.pathParam("name");
    String version = ctx.pathParam("version");
    String path = filePath(ctx, name, version);
    if (path == null || !BundleCheck.safePath(path)) {
      error(ctx, ApiError.onField(ErrorCode.INVALID_FIELD, "path", "file path must be a relative path inside the model"));
      return;
    }
    blocking(ctx, () -> lookup(name, version, path))
        .onSuccess(found -> {
          if (found.file() == null) {
            if (mayPull && !found.versionHeld()) {
              missing(ctx, name, version, true, () -> file(ctx, false)); // only a version not held is pulled
            } else {
              error(ctx, ApiError.of(ErrorCode.NOT_FOUND, name + " " + version + " has no file " + path));
            }
            return;
          }
          String etag = "\"" + found.file().sha256() + "\"";
          if (notModified(ctx, etag)) {
            return;
          }
          ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/octet-stream")
              .sendFile(found.file().path().toString())
              .onFailure(err -> LOG.warn("model file {} {} {} not sent: {}", name, version, path, err.toString()));
        });
  }

  /** A listed file of a version, else whether that version is held here at all. */
  private record FileLookup(ModelRegistry.ServedFile file, boolean versionHeld) {}

  private FileLookup lookup(String name, String version, String path) {
    if (registry == null) {
      return new FileLookup(null, false);
    }
    return registry.file(name, version, path).map(file -> new FileLookup(file, true))
        .orElseGet(() -> new FileLookup(null, registry.version(name, version).isPresent()));
  }

  /** The part after {@code files/}, percent-decoded; null when it cannot be decoded. */
  private static String filePath(RoutingContext ctx, String name, String version) {
    String raw = ctx.request().path();
    int at = raw.indexOf("/files/", MODELS.length());
    if (at < 0) {
      return null;
    }
    try {
      return URLDecoder.decode(raw.substring(at + "/files/".length()).replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException malformed) {
      return null;
    }
  }

  private static boolean notModified(RoutingContext ctx, String etag) {
    ctx.response().putHeader(HttpHeaders.ETAG, etag).putHeader(HttpHeaders.CACHE_CONTROL, IMMUTABLE);
    if (etag.equals(ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH))) {
      ctx.response().setStatusCode(304).end();
      return true;
    }
    return false;
  }

  private <T> Future<T> blocking(RoutingContext ctx, Callable<T> work) {
    return io.executeBlocking(work).onFailure(err -> {
      LOG.error("model registry read failed on {}", ctx.request().path(), err);
      error(ctx, ApiError.of(ErrorCode.INTERNAL, "the model registry could not be read"));
    });
  }

  private static byte[] readBytes(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void notPublished(RoutingContext ctx, String name, String version) {
    error(ctx, ApiError.of(ErrorCode.NOT_FOUND, "model " + name + " " + version + " is not published in this region"));
  }

  /** A version not held here: without a mirror 404; with one, pull it and {@code held} again, or say why not. */
  private void missing(RoutingContext ctx, String name, String version, boolean mayPull, Runnable held) {
    if (!mayPull) {
      notPublished(ctx, name, version);
      return;
    }
    mirror.ensure(name, version).onComplete(ar -> {
      RegistryMirror.Availability availability = ar.succeeded() ? ar.result() : RegistryMirror.Availability.FAILED;
      String primary = "the primary registry " + mirror.primaryName() + " (" + mirror.primaryUrl() + ")";
      String what = "model " + name + " " + version;
      String message = switch (availability) {
        case HELD -> null;
        case NOT_ON_PRIMARY -> what + " is not published in this region nor in " + primary;
        case PULLING -> what + " is being pulled from " + primary + "; retry shortly";
        case PRIMARY_AWAY -> what + " is not held in this region and " + primary + " does not answer;"
            + " this region serves the versions it holds (GET " + MODELS + ")";
        case REFUSED -> what + " from " + primary + " failed its SHA-256 check and was not published here";
        case FAILED -> what + " could not be stored in this region's registry";
      };
      if (availability == RegistryMirror.Availability.HELD) {
        held.run();
      } else if (availability == RegistryMirror.Availability.NOT_ON_PRIMARY) {
        error(ctx, ApiError.of(ErrorCode.NOT_FOUND, message));
      } else {
        ctx.response().putHeader(HttpHeaders.RETRY_AFTER, Long.toString(mirror.retryAfterSeconds(availability)));
        error(ctx, ApiError.of(ErrorCode.MODEL_NOT_CACHED, message));
      }
    });
  }

  /** With the status of its code. */
  private static void error(RoutingContext ctx, ApiError error) {
    json(ctx, error.httpStatus(), error.toJson());
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    if (!ctx.response().ended()) {
      ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.encode());
    }
  }
}
