package dev.genmesh.bench.queue;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.sqlclient.Pool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * The floors: the store calls of one request's life (see FloorOps) run back to back by C
 * closed-loop lanes, with the node's client settings (Vert.x PG pool of 16 caching prepared
 * statements, Vert.x Redis pool of 16, 4 I/O threads for the image writes), so the node's figures
 * can be read against the least the stores cost.
 *
 * <p>Arguments: {@code redis_port pg_port pg_pid redis_pid work_dir out [modes=redis,pg,stores,images
 * n=5000 warmup=500 c=16 fsync=on pg_cache=on]}. {@code pg_cache=off} is a diagnostic: the node as it
 * was before it turned the client's prepared-statement cache on.
 */
public final class QueueFloor {
  private static final int POOL_SIZE = 16;
  private static final int IO_THREADS = 4;

  private QueueFloor() {}

  public static void main(String[] args) throws Exception {
    BenchArgs a = new BenchArgs(args);
    int n = a.integer("n", 5000);
    int warmup = a.integer("warmup", 500);
    int c = a.integer("c", 16);
    boolean fsync = a.onOff("fsync", true);
    boolean cacheStatements = a.onOff("pg_cache", true);
    int redisPort = Integer.parseInt(a.required("redis_port"));
    int pgPort = Integer.parseInt(a.required("pg_port"));
    ProcCpu cpu = new ProcCpu(Long.parseLong(a.string("pg_pid", "-1")), Long.parseLong(a.string("redis_pid", "-1")));
    Path work = Path.of(a.required("work_dir"));
    Path out = Path.of(a.required("out"));

    Vertx vertx = Vertx.vertx();
    try (StoreStats stats = new StoreStats(vertx, pgPort, redisPort)) {
      stats.checkDurability(fsync);
      Redis redis = Redis.createClient(vertx, new RedisOptions()
          .setConnectionString("redis://127.0.0.1:" + redisPort)
          .setMaxPoolSize(POOL_SIZE).setMaxPoolWaiting(1024).setMaxWaitingHandlers(4096));
      WorkerExecutor io = vertx.createSharedWorkerExecutor("floor-io", IO_THREADS);
      GenmeshConfig config = ConfigLoader.defaults();
      FloorOps.Scripts scripts = new FloorOps.Scripts();
      scripts.loadInto(redis);
      String suffix = cacheStatements ? "" : " (no statement cache)";
      for (String mode : a.string("modes", "redis,pg,stores,images").split(",")) {
        String database = stats.createDatabase("floor_" + mode);
        Pool pool = StoreStats.pool(vertx, pgPort, database, POOL_SIZE, cacheStatements);
        Schema.apply(pool);
        String prefix = "bench:" + database + ":";
        Path images = Files.createDirectories(work.resolve("images-" + database));
        byte[] png = BenchSpec.png();
        FloorOps ops = new FloorOps(redis, pool, prefix, scripts, config);
        Lane lane = (round, seq) -> switch (mode) {
          case "redis" -> ops.redisOnly("rd-" + round + "-" + seq);
          case "pg" -> ops.pgOnly("pg-" + round + "-" + seq, seq);
          case "stores" -> ops.stores("st-" + round + "-" + seq, seq);
          case "images" -> FloorOps.image(io, images, "img-" + round + "-" + seq, png);
          default -> throw new IllegalArgumentException("unknown floor mode " + mode);
        };
        String loadBefore = ProcCpu.loadAverage();
        drive(vertx, warmup, c, seq -> lane.run("w", seq));
        JsonObject before = stats.snapshot(database);
        JsonObject cpuBefore = cpu.snapshot();
        Latencies latencies = drive(vertx, n, c, seq -> lane.run("m", seq));
        JsonObject cpuAfter = cpu.snapshot();
        JsonObject after = stats.snapshot(database);
        Blocking.await(pool.close());

        JsonObject result = new JsonObject()
            .put("system", "floor-" + mode + (cacheStatements ? "" : "-nocache"))
            .put("label", "floor " + mode + (mode.equals("pg") || mode.equals("stores") ? suffix : ""))
            .put("fsync", fsync).put("pg_statement_cache", cacheStatements)
            .put("load_before", loadBefore).put("load_after", ProcCpu.loadAverage()).put("n", n).put("warmup", warmup).put("c", c)
            .put("throughput_rps", Math.round(n / (latencies.spanNanos() / 1e9)))
            .put("latency", latencies.summary())
            .put("cpu", ProcCpu.perOperation(cpuBefore, cpuAfter, n))
            .mergeIn(StoreStats.perRequest(before, after, n));
        Blocking.appendResult(out, result);
      }
      if (FloorOps.failedDeletes() > 0) {
        throw new IllegalStateException(FloorOps.failedDeletes() + " lease DELs failed");
      }
      Blocking.await(io.close());
      Blocking.await(redis.close());
    } finally {
      Blocking.await(vertx.close());
    }
  }

  @FunctionalInterface
  private interface Lane {
    Future<?> run(String round, int seq);
  }

  /** Runs {@code count} operations with {@code concurrency} closed-loop lanes on one event loop. */
  private static Latencies drive(Vertx vertx, int count, int concurrency, IntFunction<Future<?>> operation)
      throws Exception {
    Latencies latencies = new Latencies(count);
    AtomicInteger next = new AtomicInteger();
    AtomicInteger finished = new AtomicInteger();
    AtomicInteger failures = new AtomicInteger();
    Promise<Void> done = Promise.promise();
    Context context = vertx.getOrCreateContext();
    context.runOnContext(v -> {
      for (int i = 0; i < concurrency; i++) {
        lane(context, operation, latencies, next, finished, failures, count, done);
      }
    });
    Blocking.await(done.future(), 300);
    if (failures.get() > 0) {
      throw new IllegalStateException(failures.get() + " of " + count + " floor operations failed");
    }
    return latencies;
  }

  private static void lane(Context context, IntFunction<Future<?>> operation, Latencies latencies, AtomicInteger next,
      AtomicInteger finished, AtomicInteger failures, int count, Promise<Void> done) {
    int seq = next.getAndIncrement();
    if (seq >= count) {
      return;
    }
    latencies.start(seq, System.nanoTime());
    Future<?> op;
    try {
      op = operation.apply(seq);
    } catch (RuntimeException e) {
      op = Future.failedFuture(e);
    }
    op.onComplete(ar -> {
      if (ar.succeeded()) {
        latencies.end(seq, System.nanoTime());
      } else if (failures.incrementAndGet() <= 5) {
        System.err.println("floor operation " + seq + " failed: " + ar.cause());
      }
      if (finished.incrementAndGet() == count) {
        done.tryComplete();
      }
      lane(context, operation, latencies, next, finished, failures, count, done);
    });
  }
}
