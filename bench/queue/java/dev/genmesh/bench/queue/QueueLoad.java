package dev.genmesh.bench.queue;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.region.ReferenceSafety;
import dev.genmesh.region.RegionNodeVerticle;
import dev.genmesh.registry.Sha256;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The genmesh side: one RegionNodeVerticle on the shared stores, C HTTP submitters
 * ({@code POST /regional/v1/generations}) and W virtual workers on the event bus (claim, then
 * upload a 512×512 PNG to the object store and hand in its key at once). The submitters and the
 * uploads run on a second Vert.x instance, the load generator, whose threads' CPU is reported
 * apart. Measures submit sent → result acknowledged per request, and requests per second, after
 * a warm-up; then checks in the log that every request completed once.
 *
 * <p>Arguments: {@code redis_port pg_port pg_pid redis_pid work_dir out s3_endpoint s3_credentials
 * [n=5000 warmup=500 c=16 w=16 fsync=on redis_fsync=always label=... safety_url= safety_pid= s3_pid= round_timeout_s=300
 * light_n=1000 light_c=2 commit_linger_us= uploader_port= uploader_pid=]} ({@code commit_linger_us}: the group commit's linger, default the
 * configuration's).
 * With {@code safety_url}, the node calls that Safety API instead of deploying the reference
 * service in this JVM, and {@code safety_pid}'s CPU is reported apart, as is {@code s3_pid}'s (the
 * object store's JVM).
 *
 * <p>After the measured round, a light round ({@code light_n} requests from {@code light_c}
 * closed-loop submitters, 0 skips it) measures the submit path's own latency at a load that does
 * not saturate the machine: with C=16 the p99 is mostly waiting for a CPU (docs/benchmarks.md).
 */
public final class QueueLoad {
  private volatile Round current;
  /** How long one round (the warm-up, the measured run) may take: run.sh passes its STEP_TIMEOUT. */
  private final long roundTimeoutSeconds;
  /** The group commit's linger in microseconds; negative: the configuration's default. */
  private final long commitLingerUs;
  /** The Uploader's port (the workers' uploads in a JVM of their own), or 0: from this JVM. */
  private final int uploaderPort;

  private QueueLoad(long roundTimeoutSeconds, long commitLingerUs, int uploaderPort) {
    this.uploaderPort = uploaderPort;
    this.roundTimeoutSeconds = roundTimeoutSeconds;
    this.commitLingerUs = commitLingerUs;
  }

  public static void main(String[] args) throws Exception {
    BenchArgs a = new BenchArgs(args);
    int n = a.integer("n", 5000);
    int warmup = a.integer("warmup", 500);
    int c = a.integer("c", 16);
    int w = a.integer("w", 16);
    int lightN = a.integer("light_n", 1000);
    int lightC = a.integer("light_c", 2);
    boolean fsync = a.onOff("fsync", true);
    int redisPort = Integer.parseInt(a.required("redis_port"));
    int pgPort = Integer.parseInt(a.required("pg_port"));
    String safetyUrl = a.string("safety_url", "");
    String s3Endpoint = a.required("s3_endpoint");
    String s3Credentials = a.required("s3_credentials");
    ProcCpu cpu = new ProcCpu(Long.parseLong(a.string("pg_pid", "-1")), Long.parseLong(a.string("redis_pid", "-1")),
        Long.parseLong(a.string("safety_pid", "-1")), Long.parseLong(a.string("s3_pid", "-1")))
        .withUploader(Long.parseLong(a.string("uploader_pid", "-1")));
    Path work = Path.of(a.required("work_dir"));
    Path out = Path.of(a.required("out"));
    String label = a.string("label", "genmesh");
    String redisFsync = a.string("redis_fsync", "always"); // what the Redis at redis_port runs: the row says it

    Vertx vertx = Vertx.vertx();
    // The load generator (HTTP submitters, the workers' uploads) on its own event loops, so that its CPU is told apart.
    Vertx generator = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    try (StoreStats stats = new StoreStats(vertx, pgPort, redisPort)) {
      JsonObject result = new QueueLoad(a.integer("round_timeout_s", 300), a.integer("commit_linger_us", -1),
          a.integer("uploader_port", 0))
          .run(vertx, generator, stats, cpu, work, redisPort, pgPort, n, warmup, c, w, lightN, lightC, fsync,
              redisFsync.equals("always") ? "" : "_redis_" + redisFsync, safetyUrl, s3Endpoint, s3Credentials)
          .put("system", "genmesh").put("label", label).put("redis_fsync", redisFsync)
          .put("safety", safetyUrl.isEmpty() ? "in-process reference service" : "external reference service");
      Blocking.appendResult(out, result);
    } finally {
      Blocking.await(vertx.close());
      Blocking.await(generator.close());
    }
  }

  private JsonObject run(Vertx vertx, Vertx generator, StoreStats stats, ProcCpu cpu, Path work, int redisPort, int pgPort,
      int n, int warmup, int c, int w, int lightN, int lightC, boolean fsync, String databaseSuffix, String safetyUrl, String s3Endpoint, String s3Credentials)
      throws Exception {
    stats.checkDurability(fsync);
    String database = stats.createDatabase((fsync ? "genmesh" : "genmesh_nofsync") + (safetyUrl.isEmpty() ? "" : "_extsafety")
        + databaseSuffix);
    GenmeshConfig config = config(pgPort, database, redisPort, "bench:" + database + ":");
    config = config.withImages(config.images().withStore(s3Endpoint, s3Credentials));
    if (!safetyUrl.isEmpty()) {
      config = config.withSafety(config.safety().withUrl(safetyUrl));
    }
    String region = regionOf(config);
    if (commitLingerUs >= 0) { // the group commit's linger (queue.commit_linger_us), for runs side by side
      config = config.withQueue(config.queue().withCommitLingerUs(commitLingerUs));
    }

    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    RegionNodeVerticle node = new RegionNodeVerticle(config, region, meters)
        .withLocalSafety(new ReferenceSafety());
    Blocking.await(vertx.deployVerticle(node));
    VirtualWorkers workers = new VirtualWorkers(region, w, config.worker().claimPollMs(),
        config.images().forRegion(region), generator.getOrCreateContext(), uploaderPort, this::completed);
    Blocking.await(vertx.deployVerticle(workers, VirtualWorkers.deploymentOptions()));
    HttpSubmitters submitters = new HttpSubmitters(generator, node.actualPort(), c);
    Set<Long> generatorThreads = eventLoopThreads(generator);

    String loadBefore = ProcCpu.loadAverage();
    runRound(submitters, new Round("w", warmup));
    JsonObject statsBefore = stats.snapshot(database);
    JsonObject cpuBefore = cpu.snapshot();
    var threadsBefore = ThreadCpu.snapshot();
    var allocatedBefore = ThreadCpu.allocated();
    var nativeBefore = ThreadCpu.gcJitSnapshot();
    var commitsBefore = GroupCommitStats.snapshot(meters);
    long claimsBefore = workers.claims.get();
    long noWorkBefore = workers.noWork.get();
    long notCompletedBefore = workers.notCompleted.get();
    Round measured = new Round("m", n);
    // For a JFR profile of the measured round alone (its samples carry their start time).
    System.err.println("measured round starts at " + java.time.Instant.now() + ", JVM uptime " + uptimeMs() + " ms");
    runRound(submitters, measured);
    System.err.println("measured round ends at " + java.time.Instant.now() + ", JVM uptime " + uptimeMs() + " ms");
    JsonObject cpuAfter = cpu.snapshot();
    var threadsAfter = ThreadCpu.snapshot();
    var allocatedAfter = ThreadCpu.allocated();
    var nativeAfter = ThreadCpu.gcJitSnapshot();
    var commitsAfter = GroupCommitStats.snapshot(meters);
    JsonObject statsAfter = stats.snapshot(database);
    long claims = workers.claims.get() - claimsBefore; // before the light round's
    long noWork = workers.noWork.get() - noWorkBefore;
    long notCompleted = workers.notCompleted.get() - notCompletedBefore;

    submitters.close();
    JsonObject light = lightN > 0 ? light(generator, node.actualPort(), lightN, lightC) : null;
    JsonObject check = verify(vertx, pgPort, database);
    JsonObject threads = ThreadCpu.perRequest(threadsBefore, threadsAfter, n, generatorThreads);
    JsonObject perRequestCpu = ProcCpu.perOperation(cpuBefore, cpuAfter, n);
    // The region node's JVM as a region node alone would be: this JVM less the load generator's threads and
    // the virtual workers' (its GC and JIT share stays in: an upper bound). Before 2026-12-08 the workers'
    // thread counted in (kept as region_node_with_workers_ms_per_req).
    double lessGenerator = perRequestCpu.getDouble("jvm_ms_per_req") - ThreadCpu.generatorMs(threads);
    perRequestCpu.put("region_node_ms_per_req", round3(lessGenerator - ThreadCpu.workersMs(threads)));
    perRequestCpu.put("region_node_with_workers_ms_per_req", round3(lessGenerator));
    JsonObject result = new JsonObject()
        .put("fsync", fsync)
        .put("load_before", loadBefore).put("load_after", ProcCpu.loadAverage())
        .put("n", n).put("warmup", warmup).put("c", c).put("w", w)
        .put("pg_pool", config.region(region).postgres().poolSize())
        .put("png", new JsonObject().put("bytes", BenchSpec.png().length).put("sha256", Sha256.of(BenchSpec.png())))
        .put("throughput_rps", Math.round(measured.count / (measured.endToEnd.spanNanos() / 1e9)))
        .put("latency", measured.endToEnd.summary())
        .put("submit_latency", measured.submitted.summary())
        .put("failed_submits", measured.failedSubmits.get())
        .put("worker_errors", workers.errors.get())
        .put("results_not_completed", notCompleted)
        .put("claims_per_req", round(claims / (double) n))
        .put("no_work_per_req", round(noWork / (double) n))
        .put("cpu", perRequestCpu)
        .put("jvm_threads_ms_per_req", threads)
        .put("region_node_kb_allocated_per_req",
            ThreadCpu.nodeKilobytesPerRequest(allocatedBefore, allocatedAfter, threadsAfter, n, generatorThreads))
        .put("jvm_gc_jit_ms_per_req", ThreadCpu.gcJitPerRequest(nativeBefore, nativeAfter, n))
        .put("log_check", check)
        .put("group_commit", GroupCommitStats.perRequest(commitsBefore, commitsAfter, n))
        .put("light", light);
    result.mergeIn(StoreStats.perRequest(statsBefore, statsAfter, n));
    return result; // closing Vert.x undeploys the node and the workers
  }

  /** The light round: {@code n} requests from {@code c} closed-loop submitters (its own requests, checked with the rest). */
  private JsonObject light(Vertx generator, int port, int n, int c) throws Exception {
    HttpSubmitters few = new HttpSubmitters(generator, port, c);
    String load = ProcCpu.loadAverage();
    Round round = new Round("l", n);
    runRound(few, round);
    few.close();
    return new JsonObject().put("n", n).put("c", c).put("load_before", load).put("load_after", ProcCpu.loadAverage())
        .put("throughput_rps", Math.round(round.count / (round.endToEnd.spanNanos() / 1e9)))
        .put("latency", round.endToEnd.summary()).put("submit_latency", round.submitted.summary())
        .put("failed_submits", round.failedSubmits.get());
  }

  private void runRound(HttpSubmitters submitters, Round round) throws Exception {
    current = round;
    submitters.start(round);
    try {
      Blocking.await(round.done(), roundTimeoutSeconds);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("round " + round.name + " did not finish in " + roundTimeoutSeconds + " s: " + round.finished()
          + " of " + round.count + " done", e);
    }
  }

  private void completed(String prompt) {
    Round round = current;
    if (round != null) {
      round.completed(BenchSpec.seqOf(prompt, round.name));
    }
  }

  /** Every request of the log completed, each in exactly one attempt (I1, I3 on this run). */
  private static JsonObject verify(Vertx vertx, int pgPort, String database) throws Exception {
    Pool pool = StoreStats.pool(vertx, pgPort, database, 1);
    try {
      Row row = Blocking.await(pool.query("SELECT count(*) AS total, count(*) FILTER (WHERE status = 'COMPLETED') AS completed,"
          + " max(attempt) AS max_attempt, (SELECT count(*) FROM request_events) AS events FROM requests").execute())
          .iterator().next();
      return new JsonObject().put("requests", row.getLong("total")).put("completed", row.getLong("completed"))
          .put("max_attempt", row.getInteger("max_attempt")).put("events", row.getLong("events"));
    } finally {
      Blocking.await(pool.close());
    }
  }

  /** The defaults (pool 16, lease 30 s) with one region pointed at the bench stores, HTTP on a free port. */
  private static GenmeshConfig config(int pgPort, String database, int redisPort, String keyPrefix) {
    GenmeshConfig base = ConfigLoader.defaults();
    String region = regionOf(base);
    RegionConfig defaults = base.region(region);
    RegionConfig.PostgresConfig pg = new RegionConfig.PostgresConfig("127.0.0.1", pgPort, database, "postgres", "",
        defaults.postgres().poolSize());
    RegionConfig changed = defaults.withHttpPort(0)
        .withStores(pg, new RegionConfig.RedisConfig("redis://127.0.0.1:" + redisPort, keyPrefix));
    // One region, as the bench measures one region's queue path: no request-log replication to a
    // peer and no image copies to another region's store (the defaults' ring would try both).
    return base.withRegions(Map.of(region, changed));
  }

  private static String regionOf(GenmeshConfig config) {
    return config.regions().containsKey("us-west") ? "us-west" : config.regions().keySet().iterator().next();
  }

  /** The ids of the event-loop threads of {@code vertx}: each instance of a deployment gets the next loop. */
  private static Set<Long> eventLoopThreads(Vertx vertx) throws Exception {
    Set<Long> ids = ConcurrentHashMap.newKeySet();
    String deployment = Blocking.await(vertx.deployVerticle(() -> new VerticleBase() {
      @Override
      public Future<?> start() {
        ids.add(Thread.currentThread().getId());
        return Future.succeededFuture();
      }
    }, new DeploymentOptions().setInstances(4 * VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE)));
    Blocking.await(vertx.undeploy(deployment));
    return ids;
  }

  /** The JVM's uptime: -XX:+PrintCompilation stamps its lines with it (a diagnostic run, run.sh's NODE_JAVA_OPTS). */
  private static long uptimeMs() {
    return java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();
  }

  private static double round3(double value) {
    return Math.round(value * 1000.0) / 1000.0;
  }

  private static double round(double value) {
    return Math.round(value * 100.0) / 100.0;
  }
}
