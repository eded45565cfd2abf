package dev.genmesh.launcher.chaos;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.ErrorCode;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fault-injection API of {@code genmesh up --chaos} (docs/chaos.md, "Control API"): on loopback
 * only, on a free port, behind a random bearer token; both are written to
 * {@code <data-dir>/chaos/control.json} (owner-readable) where {@code genmesh chaos} finds them. It
 * lists what can be hurt (regions, worker processes, the Redis pair, the fault proxies, the model
 * files; with {@code --region-processes} whole regions and each region's own Redis instead of the pair) and the
 * experiments the mesh cannot run, and hurts by real means: signals to processes, a proxy's delay or outage, corrupted
 * model weights. A deployment elsewhere offers the same six calls from its own operator tooling
 * (kubectl, a network policy), see docs/chaos.md.
 */
public final class ChaosControl implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ChaosControl.class);
  public static final String CONTROL_FILE = "chaos/control.json";
  private static final String NO_SHARED_REDIS = "each region of 'genmesh up --region-processes' has its own Redis"
      + " without a replica or sentinel, so there is no master to fail over: POST /chaos/redis/regions/{region}/signal"
      + " ({\"signal\": \"KILL\"}) and .../start hurt and restore one region's Redis";

  /**
   * What the mesh shows the control: its configuration as running, its edge's URL, its worker processes (id → pid),
   * and the regions it can take down whole ({@code --region-processes}; {@link RegionOutages#NONE} otherwise).
   */
  public record Targets(Supplier<GenmeshConfig> config, Supplier<String> edgeUrl, Supplier<Map<String, Long>> workerPids,
      RegionOutages regions) {
    public Targets(Supplier<GenmeshConfig> config, Supplier<String> edgeUrl, Supplier<Map<String, Long>> workerPids) {
      this(config, edgeUrl, workerPids, RegionOutages.NONE);
    }
  }

  private final Vertx vertx;
  private final FaultPoints faults;
  private final RedisNodes redis;
  private final ModelFaults models;
  private final Targets targets;
  private final String token;
  private final MeterRegistry meters;
  private HttpServer server;

  private ChaosControl(Vertx vertx, FaultPoints faults, RedisNodes redis, ModelFaults models, Targets targets,
      MeterRegistry meters) {
    this.vertx = vertx;
    this.faults = faults;
    this.redis = redis;
    this.models = models;
    this.targets = targets;
    this.meters = meters;
    byte[] secret = new byte[24];
    new SecureRandom().nextBytes(secret);
    this.token = HexFormat.of().formatHex(secret);
  }

  /**
   * Listens on 127.0.0.1 and writes the control file into {@code dataDir}; {@code redis} is the shared Redis pair, null
   * where each region has its own ({@code --region-processes}: {@link RegionOutages#redis}).
   */
  public static Future<ChaosControl> start(Vertx vertx, Path dataDir, FaultPoints faults, RedisNodes redis,
      ModelFaults models, Targets targets, MeterRegistry meters) {
    ChaosControl control = new ChaosControl(vertx, faults, redis, models, targets, meters);
    return vertx.createHttpServer().requestHandler(control.router()).listen(0, "127.0.0.1").map(server -> {
      control.server = server;
      control.writeControlFile(dataDir.resolve(CONTROL_FILE));
      LOG.info("chaos control API on http://127.0.0.1:{} (token in {})", server.actualPort(), dataDir.resolve(CONTROL_FILE));
      return control;
    });
  }

  public String url() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  private Router router() {
    Router router = Router.router(vertx);
    router.route().handler(this::authorise);
    router.route().handler(BodyHandler.create().setBodyLimit(4096));
    router.get("/chaos/targets").handler(ctx -> blocking(ctx, this::describe));
    router.post("/chaos/proxies/:name").handler(this::setProxy);
    router.post("/chaos/workers/:id/signal").handler(this::signalWorker);
    router.post("/chaos/redis/kill-master").handler(this::killRedisMaster);
    router.post("/chaos/redis/restart").handler(ctx -> blocking(ctx, this::restartRedis));
    router.post("/chaos/redis/regions/:name/signal").handler(this::signalRegionRedis);
    router.post("/chaos/redis/regions/:name/start").handler(ctx -> regionRedis(ctx,
        name -> targets.regions().startRedis(name)));
    router.post("/chaos/models/:name").handler(this::setModel);
    router.post("/chaos/regions/:name/kill").handler(ctx -> region(ctx, true));
    router.post("/chaos/regions/:name/start").handler(ctx -> region(ctx, false));
    return router;
  }

  private void authorise(RoutingContext ctx) {
    if (("Bearer " + token).equals(ctx.request().getHeader("Authorization"))) {
      ctx.next();
    } else {
      fail(ctx, ErrorCode.UNAUTHORIZED, "the chaos control API needs the token of " + CONTROL_FILE);
    }
  }

  private JsonObject describe() {
    JsonObject workers = new JsonObject();
    targets.workerPids().get().forEach((id, pid) -> workers.put(id, new JsonObject().put("pid", pid)));
    GenmeshConfig config = targets.config().get();
    JsonObject regions = new JsonObject();
    config.regions().values().forEach(r -> regions.put(r.name(),
        new JsonObject().put("url", r.effectiveApiUrl()).put("code", r.code())));
    return new JsonObject().put("edge", targets.edgeUrl().get()).put("regions", regions).put("workers", workers)
        .put("redis", redis != null ? redis.describe() : new JsonObject().put("regions", targets.regions().redis()))
        .put("unavailable", unavailable()).put("proxies", faults.describe()).put("region_processes", targets.regions().describe()).put("corrupted_models", models.describe())
        .put("max_attempts", config.queue().maxRetries() + 1)
        .put("wait_targets_ms", new JsonObject(new java.util.LinkedHashMap<>(config.autoscaling().waitTargetsMs())));
  }

  /** Experiments this mesh cannot run, with the reason (docs/chaos.md); {@code genmesh chaos --list} shows them. */
  private JsonObject unavailable() {
    JsonObject out = new JsonObject();
    if (redis == null) {
      out.put("redis-failover", NO_SHARED_REDIS);
    }
    if (!faults.enabled()) {
      String why = "no fault proxies: start the mesh with 'genmesh up --chaos'";
      out.put("storage-latency", why).put("postgres-failover", why);
    }
    if (!targets.regions().available()) {
      out.put("region-outage", "every region runs inside one JVM; start the mesh with 'genmesh up --region-processes'");
    }
    return out;
  }

  private void killRedisMaster(RoutingContext ctx) {
    if (redis == null) {
      fail(ctx, ErrorCode.CONFLICT, NO_SHARED_REDIS);
    } else {
      blocking(ctx, () -> injected("redis_kill", redis.killMaster()));
    }
  }

  /** The shared pair's dead server as a replica, else each running region's own Redis that is down. */
  private JsonObject restartRedis() {
    if (redis != null) {
      return redis.restartDead();
    }
    JsonObject started = new JsonObject();
    targets.regions().redis().fieldNames().forEach(region -> {
      if (targets.regions().redisPid(region).isEmpty()) {
        try {
          started.put(region, targets.regions().startRedis(region));
        } catch (IllegalStateException down) {
          started.put(region, new JsonObject().put("started", false).put("reason", down.getMessage()));
        }
      }
    });
    return started;
  }

  /** Body {@code {"signal": "KILL" | "STOP" | "CONT"}} to a region's own Redis server ({@code --region-processes}). */
  private void signalRegionRedis(RoutingContext ctx) {
    JsonObject body = body(ctx);
    String signal = body == null ? null : body.getString("signal");
    if (!"KILL".equals(signal) && !"STOP".equals(signal) && !"CONT".equals(signal)) {
      fail(ctx, ErrorCode.INVALID_FIELD, "signal must be KILL, STOP or CONT");
      return;
    }
    regionRedis(ctx, name -> {
      long pid = targets.regions().redisPid(name).orElseThrow(() -> new IllegalStateException("the Redis of region "
          + name + " is not running (POST /chaos/redis/regions/" + name + "/start starts it)"));
      return injected("redis_signal", Signals.send(pid, signal).put("region", name)
          .put("port", targets.regions().redis().getJsonObject(name).getInteger("port")));
    });
  }

  private void regionRedis(RoutingContext ctx, java.util.function.Function<String, JsonObject> action) {
    inRegionProcesses(ctx, "the regions of this mesh share one Redis (with a replica and a sentinel): use"
        + " POST /chaos/redis/kill-master, or start the mesh with 'genmesh up --region-processes'", action);
  }

  /** {@code action} on the region of the path ({@code --region-processes} only: else 409 with {@code unavailable}). */
  private void inRegionProcesses(RoutingContext ctx, String unavailable,
      java.util.function.Function<String, JsonObject> action) {
    String name = ctx.pathParam("name");
    if (!targets.config().get().regions().containsKey(name)) {
      fail(ctx, ErrorCode.NOT_FOUND, "no region " + name + " (see GET /chaos/targets)");
    } else if (!targets.regions().available()) {
      fail(ctx, ErrorCode.CONFLICT, unavailable);
    } else {
      blocking(ctx, () -> action.apply(name));
    }
  }

  /** Body {@code {"delay_ms": N, "down": bool}}, either or both. */
  private void setProxy(RoutingContext ctx) {
    JsonObject body = body(ctx);
    var proxy = faults.proxy(ctx.pathParam("name"));
    if (proxy.isEmpty()) {
      fail(ctx, ErrorCode.NOT_FOUND, "no fault proxy named " + ctx.pathParam("name") + " (see GET /chaos/targets)");
      return;
    }
    if (body == null || !(body.getValue("delay_ms", 0) instanceof Number)
        || !(body.getValue("down", false) instanceof Boolean)) {
      fail(ctx, ErrorCode.INVALID_FIELD, "the body is {\"delay_ms\": N, \"down\": true|false}");
      return;
    }
    if (body.containsKey("delay_ms")) {
      proxy.get().delayMs(Math.max(0, body.getLong("delay_ms")));
    }
    if (body.containsKey("down")) {
      if (body.getBoolean("down")) {
        proxy.get().down();
      } else {
        proxy.get().up();
      }
    }
    JsonObject now = faults.describe().getJsonObject(ctx.pathParam("name"));
    reply(ctx, injected("proxy", now.put("name", ctx.pathParam("name"))));
  }

  /** Body {@code {"corrupt": bool}}: corrupts a configured model's files, or restores them. */
  private void setModel(RoutingContext ctx) {
    JsonObject body = body(ctx);
    String name = ctx.pathParam("name");
    if (!targets.config().get().models().containsKey(name)) {
      fail(ctx, ErrorCode.NOT_FOUND, "no configured model " + name);
    } else if (body == null || !(body.getValue("corrupt") instanceof Boolean corrupt)) {
      fail(ctx, ErrorCode.INVALID_FIELD, "the body is {\"corrupt\": true|false}");
    } else {
      blocking(ctx, () -> corrupt ? injected("model_files", models.corrupt(name)) : models.restore(name));
    }
  }

  /** Body {@code {"signal": "KILL" | "STOP" | "CONT"}} to a worker process of the mesh. */
  private void signalWorker(RoutingContext ctx) {
    JsonObject body = body(ctx);
    String signal = body == null ? null : body.getString("signal");
    Long pid = targets.workerPids().get().get(ctx.pathParam("id"));
    if (pid == null) {
      fail(ctx, ErrorCode.NOT_FOUND, "no worker process " + ctx.pathParam("id") + " (see GET /chaos/targets)");
    } else if (!"KILL".equals(signal) && !"STOP".equals(signal) && !"CONT".equals(signal)) {
      fail(ctx, ErrorCode.INVALID_FIELD, "signal must be KILL, STOP or CONT");
    } else {
      blocking(ctx, () -> injected("signal", Signals.send(pid, signal).put("worker", ctx.pathParam("id"))));
    }
  }

  /** Kills every process of a region ({@code --region-processes}), or starts them again. */
  private void region(RoutingContext ctx, boolean kill) {
    inRegionProcesses(ctx, "this mesh runs every region inside one JVM, so none can be lost alone: start it"
        + " with 'genmesh up --region-processes'",
        name -> kill ? injected("region_kill", targets.regions().kill(name)) : targets.regions().start(name));
  }

  private JsonObject injected(String kind, JsonObject what) {
    meters.counter("genmesh.chaos.injected", "fault", kind).increment();
    LOG.warn("chaos: injected {} {}", kind, what.encode());
    return what;
  }

  private void blocking(RoutingContext ctx, Callable<JsonObject> action) {
    vertx.executeBlocking(action, false).onComplete(done -> {
      if (done.succeeded()) {
        reply(ctx, done.result());
      } else {
        LOG.warn("chaos control {} failed: {}", ctx.normalizedPath(), done.cause().toString());
        meters.counter("genmesh.chaos.control.failures").increment();
        fail(ctx, ErrorCode.CONFLICT, String.valueOf(done.cause().getMessage()));
      }
    });
  }

  private static JsonObject body(RoutingContext ctx) {
    try {
      return ctx.body().length() == 0 ? new JsonObject() : ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static void reply(RoutingContext ctx, JsonObject json) {
    ctx.response().putHeader("Content-Type", "application/json").end(json.encode());
  }

  private static void fail(RoutingContext ctx, ErrorCode code, String message) {
    ctx.response().setStatusCode(code.httpStatus()).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("code", code.wireName()).put("message", message).encode());
  }

  private void writeControlFile(Path file) {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, new JsonObject().put("url", url()).put("token", token).encodePrettily());
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
    if (redis != null) {
      redis.close();
    }
    faults.close();
    models.close();
  }
}
