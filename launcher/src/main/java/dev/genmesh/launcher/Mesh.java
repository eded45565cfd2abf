package dev.genmesh.launcher;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.config.UsersConfig;
import dev.genmesh.edge.EdgeVerticle;
import dev.genmesh.embedded.EmbeddedRedisHa;
import dev.genmesh.embedded.EmbeddedStores;
import dev.genmesh.embedded.EmbeddedUserDb;
import dev.genmesh.inference.InferenceVerticle;
import dev.genmesh.inference.WorkerHttp;
import dev.genmesh.inference.WorkerOptions;
import dev.genmesh.launcher.backup.BackupSchedule;
import dev.genmesh.launcher.backup.Backups;
import dev.genmesh.launcher.backup.LocalBackups;
import dev.genmesh.launcher.chaos.ChaosControl;
import dev.genmesh.launcher.chaos.FaultPoints;
import dev.genmesh.launcher.chaos.impl.RedisNodes;
import dev.genmesh.launcher.impl.BundledModels;
import dev.genmesh.launcher.impl.LocalDns;
import dev.genmesh.launcher.impl.LocalEndpoints;
import dev.genmesh.launcher.impl.LocalUsers;
import dev.genmesh.launcher.impl.ReferenceSafety;
import dev.genmesh.launcher.impl.RegionCluster;
import dev.genmesh.launcher.impl.UserDbMove;
import dev.genmesh.launcher.scaling.LocalAutoscaling;
import dev.genmesh.launcher.scaling.LocalWorkerActuator;
import dev.genmesh.launcher.scaling.impl.WorkerConfigFile;
import dev.genmesh.launcher.scaling.impl.WorkerProcesses;
import dev.genmesh.launcher.tracing.Tracing;
import dev.genmesh.region.RegionNodeVerticle;
import dev.genmesh.users.IssuedKey;
import dev.genmesh.users.UserDbWatch;
import dev.genmesh.users.UserStore;
import dev.genmesh.users.UserStores;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.WorkerExecutor;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole mesh in one process: embedded PostgreSQL, Redis and object store, one Hazelcast cluster per
 * region (a region-node member and a worker member each), and the edge router. With
 * {@link Options#autoscale} the workers are {@code genmesh worker} child processes instead, started
 * and stopped by each region's autoscaler ({@link LocalWorkerActuator}).
 */
public final class Mesh implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Mesh.class);
  private static final long STEP_TIMEOUT_S = 180;
  /** How long the sentinel waits for a silent Redis master before it promotes the replica. */
  private static final long REDIS_DOWN_AFTER_MS = 5_000;
  /** How long a worker process has to leave its cluster after SIGTERM before it is killed. */
  private static final Duration WORKER_STOP_GRACE = Duration.ofSeconds(20);

  /**
   * @param randomPorts pick free ports for every listener (tests, or a second mesh on one machine)
   * @param durable fsync on in the embedded stores
   */
  /**
   * @param autoscale the regions scale their CPU workers themselves ({@link LocalAutoscaling}), as
   *     {@code genmesh worker} processes
   * @param configTree the settings the mesh's config was loaded from ({@link ConfigLoader#tree}); the
   *     worker processes get them with the running ports and endpoints written over them
   */
  public record Options(Path dataDir, boolean randomPorts, boolean durable, String bindHost, boolean autoscale,
      Map<String, Object> configTree) {
    public Options(Path dataDir, boolean randomPorts, boolean durable, String bindHost) {
      this(dataDir, randomPorts, durable, bindHost, false, Map.of());
    }
  }

  private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final List<Vertx> members = new ArrayList<>();
  private final List<Vertx> workers = new ArrayList<>();
  private final List<RegionNodeVerticle> regionNodes = new ArrayList<>();
  private final List<LocalWorkerActuator> actuators = new ArrayList<>();
  private final Map<String, String> workerHttp = new LinkedHashMap<>();
  private final Map<String, WorkerProcesses> workerProcesses = new LinkedHashMap<>();
  /** Per region node, the pool that starts its worker processes (blocking: a fork and a file write). */
  private final List<WorkerExecutor> processStarters = new ArrayList<>();
  /** Completes once every region node listens: worker processes need their real ports. */
  private final Promise<Void> regionsStarted = Promise.promise();
  private EmbeddedStores stores;
  private EmbeddedRedisHa redisHa;
  private Vertx edgeVertx;
  private EdgeVerticle edge;
  private LocalDns dns;
  private List<BackupSchedule> backups = List.of();
  private UserStore users;
  private EmbeddedUserDb userDb;
  private UserDbWatch userDbWatch;
  private IssuedKey localKey;
  private volatile GenmeshConfig config;
  /** The stores' fault proxies of {@code --chaos} (docs/chaos.md); none otherwise. */
  private FaultPoints faults = FaultPoints.none();
  private ChaosControl chaosControl;

  private Mesh() {}

  /** Starts everything and returns once the edge can take requests; reports steps to {@code progress}. */
  public static Mesh start(GenmeshConfig base, Options options, Consumer<String> progress) {
    return start(new Mesh(), base, options, progress);
  }

  /** As {@link #start}, with fault proxies before the stores, the chaos control API, 2 warm workers (docs/chaos.md). */
  public static Mesh startWithChaos(GenmeshConfig base, Options options, Consumer<String> progress) {
    Mesh mesh = new Mesh();
    mesh.faults = FaultPoints.proxied();
    return start(mesh, base, options, progress);
  }

  private static Mesh start(Mesh mesh, GenmeshConfig base, Options options, Consumer<String> progress) {
    try {
      mesh.startAll(base, options, progress);
      if (mesh.faults.enabled()) {
        mesh.startChaosControl(options, progress);
      }
      return mesh;
    } catch (RuntimeException e) {
      mesh.close();
      throw e;
    }
  }

  private void startAll(GenmeshConfig base, Options options, Consumer<String> progress) {
    Tracing.start(base.tracing(), "up");
    progress.accept("starting embedded PostgreSQL (one server per region), Redis and the object store (S3Proxy) in "
        + options.dataDir());
    Map<String, String> databases = new LinkedHashMap<>();
    base.regions().values().forEach(r -> databases.put(r.name(), r.postgres().database()));
    List<String> buckets = base.images().allBuckets(List.copyOf(base.regions().keySet()));
    stores = EmbeddedStores.startRegional(options.dataDir(), databases, buckets, options.durable(),
        region -> LocalBackups.postgresSettings(base, options.dataDir(), region));
    progress.accept(ReplicationPlan.describe(base));
    if (base.users().enabled()) {
      progress.accept("starting the user database: its primary in " + LocalUsers.primaryRegion(base)
          + " and a synchronous streaming standby in each other region (own PostgreSQL servers)");
      userDb = EmbeddedUserDb.start(options.dataDir(), List.copyOf(base.regions().keySet()), LocalUsers.primaryRegion(base),
          LocalUsers.DATABASE, UsersConfig::standbyName, options.durable());
    }
    progress.accept("starting a Redis replica and a Redis Sentinel (the regions reach Redis through it)");
    redisHa = EmbeddedRedisHa.start(options.dataDir(), stores.redisPort(), options.durable(), REDIS_DOWN_AFTER_MS);
    config = LocalEndpoints.apply(options.autoscale() ? LocalAutoscaling.configure(base, faults.enabled() ? 2 : 1) : base,
        options.randomPorts(), options.bindHost(), faults, stores, redisHa, userDb);

    Path modelRoot = CommonOptions.modelRoot(config.worker(), options.dataDir());
    Path registryRoot = CommonOptions.registryRoot(config, options.dataDir());
    List<String> seeded = BundledModels.seededRegions(config);
    progress.accept("publishing the bundled models into the registry of " + String.join(", ", seeded) + " under "
        + registryRoot + (seeded.size() < config.regions().size() ? " (the other regions pull them from it)" : ""));
    BundledModels.publish(config, modelRoot, seeded.stream().map(registryRoot::resolve).toList());
    Map<String, String> regionUrls = new java.util.concurrent.ConcurrentHashMap<>();
    String primary = config.registry().primary();

    Map<String, RegionConfig> started = new LinkedHashMap<>();
    for (RegionConfig region : config.regions().values()) {
      progress.accept("starting region " + region.name() + " (Hazelcast cluster genmesh-" + region.name() + ")");
      RegionCluster.Member member = await(RegionCluster.join(region, options.bindHost(), null),
          "join cluster of " + region.name());
      Vertx node = member.vertx();
      members.add(node);
      RegionNodeVerticle verticle = new RegionNodeVerticle(config, region.name(), meters,
          registryRoot.resolve(region.name()), Clock.systemUTC())
          .withLocalSafety(new ReferenceSafety())
          .withPrimaryRegistryUrl(() -> regionUrls.getOrDefault(primary, "http://127.0.0.1:" + config.region(primary).httpPort()));
      if (options.autoscale()) {
        // Worker processes start once every region listens, with the config as running (real ports).
        WorkerExecutor starter = node.createSharedWorkerExecutor("genmesh-worker-processes-" + region.name(), 1);
        processStarters.add(starter);
        LocalWorkerActuator actuator = new LocalWorkerActuator(node, region.name(), region.code() + "-worker",
            config.worker().gpuClass(), config.autoscaling().drainDeadlineMs(), verticle::knownWorkers,
            workerId -> startWorkerProcess(starter, region.name(), workerId, options),
            workerId -> WorkerProcesses.logOf(options.dataDir(), workerId), Clock.systemUTC());
        actuators.add(actuator);
        verticle.withActuator(actuator);
      }
      await(node.deployVerticle(verticle), "start region node " + region.name());
      member.onMemberLeft(verticle::memberLeft);
      regionNodes.add(verticle);
      started.put(region.name(), region.withHttpPort(verticle.actualPort())
          .withApiUrl("http://" + options.bindHost() + ":" + verticle.actualPort()));
      regionUrls.put(region.name(), started.get(region.name()).apiUrl());
    }
    config = config.withRegions(started);
    regionsStarted.complete();

    for (RegionConfig region : options.autoscale() ? List.<RegionConfig>of() : config.regions().values()) {
      progress.accept("starting CPU inference worker of " + region.name() + " (loads the model, runs a warm-up)");
      RegionCluster.Member member = await(RegionCluster.joinAsWorker(region, options.bindHost(), null),
          "join cluster of " + region.name());
      Vertx worker = member.vertx();
      workers.add(worker);
      String workerId = region.code() + "-worker-1";
      InferenceVerticle verticle = new InferenceVerticle(config, region.name(), workerId, meters,
          CommonOptions.modelSource(config, region.name(), workerId, modelRoot, meters),
          WorkerOptions.defaults().withClusterNodeId(member.nodeId())
              .withSpoolDir(CommonOptions.spoolDir(config, options.dataDir(), workerId)));
      // Any free port: the three workers share this process and its configuration.
      WorkerHttp http = new WorkerHttp(verticle, meters, options.bindHost(), 0);
      await(worker.deployVerticle(http), "start the HTTP probes of the worker of " + region.name());
      await(worker.deployVerticle(verticle), "start inference worker of " + region.name());
      workerHttp.put(region.name(), "http://" + options.bindHost() + ":" + http.actualPort());
    }

    progress.accept("starting the edge router");
    edgeVertx = Tracing.apply(Vertx.builder().withMetrics(new MicrometerMetricsFactory(meters)),
        new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true))).build();
    if (config.users().enabled()) {
      users = UserStores.open(edgeVertx, config.users());
      await(users.migrate(), "migrate the user database");
      String oldServer = base.users().primaryRegion();
      UserDbMove.moveIfNeeded(stores.postgresPort(oldServer), config.users().databases().get(userDb.startedPrimary()).port());
      userDbWatch = UserDbWatch.start(edgeVertx, config.users(), meters).orElse(null);
      localKey = await(LocalUsers.prepare(users), "prepare the user database " + LocalUsers.DATABASE).orElse(null);
    }
    edge = new EdgeVerticle(config, meters, Clock.systemUTC(), users);
    await(edgeVertx.deployVerticle(edge), "start the edge router");
    tellParticipantsWhereEachListens(options);
    progress.accept("starting the GeoDNS responder for " + config.failover().dns().apiFqdn() + " and DNS failover");
    dns = await(LocalDns.startEmbedded(edgeVertx, config.failover().dns().withEdgesOf(config.regions().keySet()),
        options.dataDir(), meters, System.getenv()),
        "start the GeoDNS responder");
    progress.accept("backing up each region's PostgreSQL, and Redis, into "
        + Backups.backupDir(config.dr(), options.dataDir()) + " (WAL archived continuously; docs/dr.md)");
    backups = LocalBackups.start(config, options.dataDir(), stores, edgeVertx, meters);
    progress.accept("waiting until the edge sees a ready region");
    LocalEndpoints.awaitReady("http://127.0.0.1:" + edge.actualPort() + "/health/ready", STEP_TIMEOUT_S);
  }

  private void startChaosControl(Options options, Consumer<String> progress) {
    progress.accept("starting the chaos control API (fault proxies " + faults.describe().fieldNames() + ")");
    var targets = new ChaosControl.Targets(() -> config, () -> "http://127.0.0.1:" + edgePort(), this::scaledWorkerPids);
    chaosControl = await(ChaosControl.start(edgeVertx, options.dataDir(), faults, new RedisNodes(options.dataDir(),
        stores.redisPort(), redisHa, options.durable()), CommonOptions.modelFaults(config, options.dataDir()), targets,
        meters), "start the chaos control API");
  }

  /** The chaos control API's base URL ({@code --chaos}), else empty. */
  public java.util.Optional<String> chaosControlUrl() {
    return java.util.Optional.ofNullable(chaosControl).map(ChaosControl::url);
  }

  /**
   * Failover participants poll each other's {@code /failover/*}: each region node was made before
   * the others (and the edge) had bound their ports, so with {@code --random-ports} it knows them
   * only now. Told after binding rather than picked ahead: a port picked free can be taken by
   * another process before the listener binds it.
   */
  private void tellParticipantsWhereEachListens(Options options) {
    Map<String, String> addresses = new LinkedHashMap<>();
    config.regions().forEach((name, region) -> addresses.put(name, region.effectiveApiUrl()));
    if (options.randomPorts() && config.failover().edgeUrl().isEmpty()) {
      String edgeUrl = "http://" + options.bindHost() + ":" + edge.actualPort();
      config = config.withFailover(config.failover().withEdgeUrl(edgeUrl));
      addresses.put(dev.genmesh.config.failover.FailoverConfig.EDGE, edgeUrl);
    }
    regionNodes.forEach(node -> node.failover().useAddresses(addresses));
  }

  /** A worker the autoscaler asked for: a {@code genmesh worker} process (the region judges it by heartbeats). */
  private Future<Process> startWorkerProcess(WorkerExecutor starter, String regionName, String workerId, Options options) {
    return regionsStarted.future().compose(v -> starter.executeBlocking(() ->
        workerProcesses(regionName, options).start(workerId)));
  }

  /** The region's worker starter, with its config file written on first use (the mesh runs by then). */
  private synchronized WorkerProcesses workerProcesses(String regionName, Options options) {
    return workerProcesses.computeIfAbsent(regionName, name -> new WorkerProcesses(options.dataDir(), options.bindHost(),
        WorkerConfigFile.write(options.dataDir().resolve("workers"), options.configTree(), config, name), name));
  }

  /** The workers the autoscalers run now, per region (empty without {@code --autoscale}). */
  public List<String> scaledWorkers() {
    return actuators.stream().flatMap(a -> a.workerIds().stream()).toList();
  }

  /** Worker id → process id of the autoscaled worker processes running now. */
  public Map<String, Long> scaledWorkerPids() {
    Map<String, Long> pids = new LinkedHashMap<>();
    actuators.forEach(a -> pids.putAll(a.workerPids()));
    return pids;
  }

  /** The key of the user {@code local}, issued by this start (the first on its data dir); empty otherwise. */
  public java.util.Optional<IssuedKey> localKey() {
    return java.util.Optional.ofNullable(localKey);
  }

  public int edgePort() {
    return edge.actualPort();
  }

  /** The GeoDNS responder and DNS failover on the edge's event bus (docs/failover.md, "DNS"). */
  public LocalDns dns() {
    return dns;
  }

  /** The configuration as running: actual ports and store endpoints. */
  public GenmeshConfig config() {
    return config;
  }

  /** Region → base URL of its worker's probes and metrics ({@code /health/live}, {@code /health/ready}, {@code /metrics}). */
  public Map<String, String> workerHttp() {
    return Map.copyOf(workerHttp);
  }

  public PrometheusMeterRegistry meters() {
    return meters;
  }

  /** The region nodes' Vert.x instances, in the config's region order (each a member of its region's cluster). */
  public List<Vertx> regionMembers() {
    return List.copyOf(members);
  }

  public EmbeddedStores stores() {
    return stores;
  }

  /** The user database's servers (a primary and a standby per other region); null with {@code users.enabled: false}. */
  public EmbeddedUserDb userDb() {
    return userDb;
  }

  /** The Redis replica and sentinel the regions reach their queues through. */
  public EmbeddedRedisHa redisHa() {
    return redisHa;
  }

  /**
   * Stops in the order that loses nothing: the edge first (no new submissions), then the
   * workers (a request they were running stays in the request log and is queued again when
   * its lease lapses), then the region nodes, then the stores.
   */
  @Override
  public void close() {
    if (userDbWatch != null) {
      userDbWatch.close();
    }
    if (edgeVertx != null) {
      closeQuietly(edgeVertx, "edge"); // closes the user database's pools too
    }
    regionsStarted.tryFail("the mesh is stopping");
    actuators.forEach(a -> a.close(WORKER_STOP_GRACE));
    processStarters.forEach(WorkerExecutor::close);
    workers.forEach(v -> closeQuietly(v, "worker"));
    members.forEach(v -> closeQuietly(v, "region node"));
    backups.forEach(BackupSchedule::close);
    for (AutoCloseable part : java.util.Arrays.asList(chaosControl, faults, redisHa, userDb, stores)) {
      if (part != null) {
        try {
          part.close();
        } catch (Exception e) {
          LOG.warn("{} did not stop cleanly: {}", part.getClass().getSimpleName(), e.toString());
        }
      }
    }
    meters.close();
  }

  private static void closeQuietly(Vertx vertx, String what) {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("{} did not stop cleanly: {}", what, e.toString());
    }
  }

  static <T> T await(Future<T> future, String what) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(STEP_TIMEOUT_S, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("could not " + what + ": " + e.getCause().getMessage(), e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("could not " + what + " within " + STEP_TIMEOUT_S + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while trying to " + what);
    }
  }
}
