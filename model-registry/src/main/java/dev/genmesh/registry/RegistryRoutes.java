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

  /**
   * @param registry null when this node has no registry: the listing is empty, every model unknown
   * @param io where the blocking reads and hashing run (the serving node's named pool)
   */
  public RegistryRoutes(ModelRegistry registry, WorkerExecutor io) {
    this.registry = registry;
    this.io = Objects.requireNonNull(io, "io");
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
    Router router = Router.router(vertx);
    WorkerExecutor pool = io != null ? io : vertx.createSharedWorkerExecutor("genmesh-registry-io", IO_THREADS);
    new RegistryRoutes(registry, pool).mount(router);
    router.errorHandler(404, ctx -> error(ctx, ApiError.of(ErrorCode.NOT_FOUND, "no such route: " + ctx.request().path())));
    return router;
  }

  private void listing(RoutingContext ctx) {
    blocking(ctx, () -> registry == null ? new JsonObject().put("models", new JsonArray()) : registry.listing())
        .onSuccess(body -> {
          ctx.response().putHeader(HttpHeaders.CACHE_CONTROL, "no-cache");
          json(ctx, 200, body);
        });
  }

  private void manifest(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    String version = ctx.pathParam("version");
    blocking(ctx, () -> {
      Optional<PublishedVersion> published = registry == null ? Optional.empty() : registry.version(name, version);
      return published.map(v -> readBytes(v.dir().resolve(BundleCheck.MANIFEST)));
    }).onSuccess(bytes -> {
      if (bytes.isEmpty()) {
        notPublished(ctx, name, version);
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
    String name = ctx.pathParam("name");
    String version = ctx.pathParam("version");
    String path = filePath(ctx, name, version);
    if (path == null || !BundleCheck.safePath(path)) {
      error(ctx, ApiError.onField(ErrorCode.INVALID_FIELD, "path", "file path must be a relative path inside the model"));
      return;
    }
    blocking(ctx, () -> registry == null ? Optional.<ModelRegistry.ServedFile>empty() : registry.file(name, version, path))
        .onSuccess(found -> {
          if (found.isEmpty()) {
            error(ctx, ApiError.of(ErrorCode.NOT_FOUND, name + " " + version + " has no file " + path));
            return;
          }
          String etag = "\"" + found.get().sha256() + "\"";
          if (notModified(ctx, etag)) {
            return;
          }
          ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/octet-stream")
              .sendFile(found.get().path().toString())
              .onFailure(err -> LOG.warn("model file {} {} {} not sent: {}", name, version, path, err.toString()));
        });
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
