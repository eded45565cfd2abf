package dev.genmesh.launcher;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.config.UsersConfig;
import dev.genmesh.edge.EdgeVerticle;
import dev.genmesh.embedded.EmbeddedObjectStore;
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
import dev.genmesh.launcher.chaos.RedisNodes;
import dev.genmesh.launcher.impl.BundledModels;
import dev.genmesh.launcher.impl.LocalDns;
import dev.genmesh.launcher.impl.LocalEndpoints;
import dev.genmesh.launcher.impl.LocalUsers;
import dev.genmesh.launcher.impl.ReferenceSafety;
import dev.genmesh.launcher.impl.RegionCluster;
import dev.genmesh.launcher.impl.UserDbMove;
import dev.genmesh.launcher.regions.RegionProcesses;
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
 * and stopped by each region's autoscaler ({@link LocalWorkerActuator}). With {@code --region-processes}
 * each region's node and workers are processes of their own instead ({@link RegionProcesses}).
 */
public final class Mesh implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Mesh.class);
  private static final long STEP_TIMEOUT_S = 180;
  /** How long the sentinel waits for a silent Redis master before it promotes the replica. */
  private static final long REDIS_DOWN_AFTER_MS = 5_000;

  /**
   * @param randomPorts pick free ports for every listener (tests, or a second mesh on one machine)
   * @param durable fsync on in the embedded stores
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
  /** The regions in this JVM (without {@code --region-processes}). */
  private final LocalRegions here = new LocalRegions(meters);
  /** The regions as processes of their own ({@code --region-processes}); null: in this JVM. */
  private RegionProcesses regionProcesses;

  private Mesh() {}

  /** Starts everything and returns once the edge can take requests; reports steps to {@code progress}. */
  public static Mesh start(GenmeshConfig base, Options options, Consumer<String> progress) {
    return start(new Mesh(), base, options, progress);
  }

  /** As {@link #start}, with fault proxies before the stores, the chaos control API, 2 warm workers (docs/chaos.md). */
  public static Mesh startWithChaos(GenmeshConfig base, Options options, Consumer<String> progress) {
    return start(base, options, progress, true, false);
  }

  /**
   * As {@link #start}, with {@code chaos} as {@link #startWithChaos}; {@code regionProcesses}: each region's node and
   * workers as processes of their own, failover on, and the control API to kill and start a region (docs/failover.md).
   */
  public static Mesh start(GenmeshConfig base, Options options, Consumer<String> progress, boolean chaos,
      boolean regionProcesses) {
    Mesh mesh = new Mesh();
    mesh.faults = chaos ? FaultPoints.proxied() : FaultPoints.none();
    mesh.regionProcesses = regionProcesses ? new RegionProcesses(new RegionProcesses.Options(options.dataDir(),
        options.bindHost(), options.autoscale(), chaos && options.autoscale() ? 2 : 1, (region, log) -> mesh.stores
        .restartPostgres(options.dataDir(), region, options.durable(), log,
            LocalBackups.postgresSettings(base, options.dataDir(), region)), options.durable())) : null;
    return start(mesh, base, options, progress);
  }

  private static Mesh start(Mesh mesh, GenmeshConfig base, Options options, Consumer<String> progress) {
    try {
      mesh.startAll(base, options, progress);
      if (mesh.faults.enabled() || mesh.regionProcesses != null) {
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
    Map<String, String> databases = new LinkedHashMap<>();
    base.regions().values().forEach(r -> databases.put(r.name(), r.postgres().database()));
    if (regionProcesses == null) {
      progress.accept("starting embedded PostgreSQL (one server per region), Redis and the object store (S3Proxy) in "
          + options.dataDir());
      List<String> buckets = base.images().allBuckets(List.copyOf(base.regions().keySet()));
      stores = EmbeddedStores.startRegional(options.dataDir(), databases, buckets, options.durable(),
          region -> LocalBackups.postgresSettings(base, options.dataDir(), region));
    } else { // each region gets its own Redis and object store below (RegionProcesses.startStores)
      progress.accept("starting embedded PostgreSQL (one server per region) in " + options.dataDir());
      stores = EmbeddedStores.startRegionalPostgres(options.dataDir(), databases, options.durable(),
          region -> LocalBackups.postgresSettings(base, options.dataDir(), region));
    }
    progress.accept(ReplicationPlan.describe(base));
    if (base.users().enabled()) {
      progress.accept("starting the user database: its primary in " + LocalUsers.primaryRegion(base)
          + " and a synchronous streaming standby in each other region (own PostgreSQL servers)");
      userDb = EmbeddedUserDb.start(options.dataDir(), List.copyOf(base.regions().keySet()), LocalUsers.primaryRegion(base),
          LocalUsers.DATABASE, UsersConfig::standbyName, options.durable());
    }
    GenmeshConfig scaled = options.autoscale() ? LocalAutoscaling.configure(base, faults.enabled() ? 2 : 1) : base;
    if (regionProcesses == null) {
      progress.accept("starting a Redis replica and a Redis Sentinel (the regions reach Redis through it)");
      redisHa = EmbeddedRedisHa.start(options.dataDir(), stores.redisPort(), options.durable(), REDIS_DOWN_AFTER_MS);
      config = LocalEndpoints.apply(scaled, options.randomPorts(), options.bindHost(), faults, stores, redisHa, userDb);
    } else {
      config = LocalEndpoints.applyPostgresOnly(scaled, options.randomPorts(), options.bindHost(), faults, stores, userDb,
          EmbeddedObjectStore.ensureCredentials(options.dataDir().resolve(EmbeddedStores.OBJECTS_DIR)));
    }

    Path modelRoot = CommonOptions.modelRoot(config.worker(), options.dataDir());
    Path registryRoot = CommonOptions.registryRoot(config, options.dataDir());
    List<String> seeded = BundledModels.seededRegions(config);
    progress.accept("publishing the bundled models into the registry of " + String.join(", ", seeded) + " under "
        + registryRoot + (seeded.size() < config.regions().size() ? " (the other regions pull them from it)" : ""));
    BundledModels.publish(config, modelRoot, seeded.stream().map(registryRoot::resolve).toList());
    if (regionProcesses == null) {
      config = here.start(config, options, progress, modelRoot, registryRoot);
    } else {
      config = RegionProcesses.pinned(regionProcesses.startStores(config, Path.of(config.images().credentialsFile()),
          faults, progress), options.bindHost());
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
    if (regionProcesses != null) {
      Map<String, Integer> pgPorts = new LinkedHashMap<>();
      config.regions().keySet().forEach(name -> pgPorts.put(name, stores.postgresPort(name)));
      config = regionProcesses.start(config, options.configTree(), "http://" + options.bindHost() + ":" + edge.actualPort(),
          pgPorts, progress);
    }
    tellParticipantsWhereEachListens(options);
    progress.accept("starting the GeoDNS responder for " + config.failover().dns().apiFqdn() + " and DNS failover");
    dns = await(LocalDns.startEmbedded(edgeVertx, config.failover().dns().withEdgesOf(config.regions().keySet()),
        options.dataDir(), meters, System.getenv()),
        "start the GeoDNS responder");
    progress.accept("backing up each region's PostgreSQL, and " + (regionProcesses == null ? "Redis" : "its own Redis")
        + ", into " + Backups.backupDir(config.dr(), options.dataDir()) + " (WAL archived continuously; docs/dr.md)");
    backups = regionProcesses == null ? LocalBackups.start(config, options.dataDir(), stores, edgeVertx, meters)
        : LocalBackups.startForOwnRedis(config, options.dataDir(), stores,
            region -> RegionProcesses.redisDir(options.dataDir(), region), edgeVertx, meters);
    progress.accept("waiting until the edge sees a ready region");
    LocalEndpoints.awaitReady("http://127.0.0.1:" + edge.actualPort() + "/health/ready", STEP_TIMEOUT_S);
  }

  private void startChaosControl(Options options, Consumer<String> progress) {
    progress.accept("starting the chaos control API (fault proxies " + faults.describe().fieldNames() + ")");
    var targets = new ChaosControl.Targets(() -> config, () -> "http://127.0.0.1:" + edgePort(), this::scaledWorkerPids,
        regionProcesses != null ? regionProcesses : dev.genmesh.launcher.chaos.RegionOutages.NONE);
    RedisNodes sharedRedis = redisHa == null ? null // each region's own Redis: through targets.regions()
        : new RedisNodes(options.dataDir(), stores.redisPort(), redisHa, options.durable());
    chaosControl = await(ChaosControl.start(edgeVertx, options.dataDir(), faults, sharedRedis,
        CommonOptions.modelFaults(config, options.dataDir()), targets, meters), "start the chaos control API");
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
    here.useAddresses(addresses);
  }

  /** The workers the autoscalers run now, per region (empty without {@code --autoscale}). */
  public List<String> scaledWorkers() {
    return here.scaledWorkers();
  }

  /** Worker id → process id of the autoscaled worker processes running now. */
  public Map<String, Long> scaledWorkerPids() {
    Map<String, Long> pids = new LinkedHashMap<>(regionProcesses != null ? regionProcesses.workerPids() : Map.of());
    pids.putAll(here.workerPids());
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
    return here.workerHttp();
  }

  public PrometheusMeterRegistry meters() {
    return meters;
  }

  /** The region nodes' Vert.x instances, in the config's region order (each a member of its region's cluster). */
  public List<Vertx> regionMembers() {
    return here.members();
  }

  public EmbeddedStores stores() {
    return stores;
  }

  /** The user database's servers (a primary and a standby per other region); null with {@code users.enabled: false}. */
  public EmbeddedUserDb userDb() {
    return userDb;
  }

  /** The Redis replica and sentinel the regions reach their queues through; null with {@code --region-processes}. */
  public EmbeddedRedisHa redisHa() {
    return redisHa;
  }

  /** The regions as processes with their own stores ({@code --region-processes}); empty when they run in this JVM. */
  public java.util.Optional<RegionProcesses> regionProcesses() {
    return java.util.Optional.ofNullable(regionProcesses);
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
    here.close();
    backups.forEach(BackupSchedule::close);
    for (AutoCloseable part : java.util.Arrays.asList(regionProcesses, chaosControl, faults, redisHa, userDb, stores)) {
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

  static void closeQuietly(Vertx vertx, String what) {
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
