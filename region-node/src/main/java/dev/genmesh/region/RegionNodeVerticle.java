package dev.genmesh.region;

import dev.genmesh.autoscaler.Actuator;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.Tier;
import dev.genmesh.region.api.RegionalApi;
import dev.genmesh.region.api.impl.RegionProbes;
import dev.genmesh.region.api.impl.WorkerRoutes;
import dev.genmesh.region.autoscale.impl.Autoscaler;
import dev.genmesh.region.autoscale.impl.AutoscalerLeadership;
import dev.genmesh.region.autoscale.impl.DecisionPublisher;
import dev.genmesh.region.autoscale.impl.LoggingActuator;
import dev.genmesh.region.autoscale.impl.RegionObservations;
import dev.genmesh.region.autoscale.impl.ScalingDecisionLog;
import dev.genmesh.region.autoscale.impl.WarmupAdvisor;
import dev.genmesh.region.breaker.Breakers;
import dev.genmesh.region.breaker.RegionBreakers;
import dev.genmesh.region.node.ImageStore;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.region.queue.RetryPolicy;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.queue.impl.FallbackMover;
import dev.genmesh.region.queue.impl.LeaseReaper;
import dev.genmesh.region.queue.impl.QueueBreakerActions;
import dev.genmesh.region.queue.impl.QueueRebuild;
import dev.genmesh.region.queue.impl.RedisWatch;
import dev.genmesh.region.queue.impl.Retries;
import dev.genmesh.region.queue.impl.WorkerHandBack;
import dev.genmesh.region.requests.ProgressHub;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.impl.Cancellations;
import dev.genmesh.region.requests.impl.Migrations;
import dev.genmesh.region.requests.impl.PostgresPool;
import dev.genmesh.region.requests.impl.Submissions;
import dev.genmesh.region.safety.LocalSafetyService;
import dev.genmesh.region.safety.RegionSafety;
import dev.genmesh.region.scheduler.EtaEstimator;
import dev.genmesh.region.scheduler.Routing;
import dev.genmesh.region.scheduler.impl.ClaimHandler;
import dev.genmesh.region.workers.KnownWorker;
import dev.genmesh.region.workers.impl.WorkerRecovery;
import dev.genmesh.region.workers.impl.WorkerRegistry;
import dev.genmesh.region.workers.impl.WorkerReports;
import dev.genmesh.registry.ModelRegistry;
import dev.genmesh.registry.RegistryRoutes;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.sqlclient.Pool;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The region node: the region's request log (Postgres), tier queues and leases (Redis), the
 * scheduler workers claim from over the event bus, and the regional HTTP API the edge calls.
 * Deploy one per region member; several may share one region's stores.
 */
public final class RegionNodeVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(RegionNodeVerticle.class);

  private final GenmeshConfig config;
  private final RegionConfig region;
  private final MeterRegistry registry;
  private final Path imageDir;
  private final Path registryDir;
  private final Clock clock;

  private Pool pool;
  private Redis redis;
  private WorkerExecutor io;
  private volatile HttpServer server;
  private RegionMetrics metrics;
  private RequestLog log;
  private TierQueue queue;
  private ProgressHub hub;
  private WorkerRegistry workers;
  private ImageStore images;
  private Routing routing;
  private EtaEstimator eta;
  private Retries retries;
  private LeaseReaper reaper;
  private RedisWatch watch;
  /** The start-up rebuild of the queues from the log is done (readiness). */
  private boolean queuesRebuilt;
  private RegionSafety safety;
  private RegionBreakers breakers;
  private FallbackMover fallbacks;
  private volatile Actuator actuator = new LoggingActuator();
  private LocalSafetyService localSafety;
  private Autoscaler autoscaler;
  private AutoscalerLeadership leadership;
  private WarmupAdvisor warmup;
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  /** A warm-up plan's counts wait at least this long for the planned workers to ask. */
  private static final long WARMUP_PLAN_MIN_TTL_MS = 60_000;
  private Housekeeping housekeeping;

  /**
   * @param regionName a key of {@code config.regions()}
   * @param imageDir where finished images are stored ({@code <imageDir>/<id>/<index>.png})
   */
  public RegionNodeVerticle(GenmeshConfig config, String regionName, MeterRegistry registry, Path imageDir) {
    this(config, regionName, registry, imageDir, Clock.systemUTC());
  }

  /**
   * @param clock the time of the queue policies (retry backoff, routing hold, ETA); tests pass a
   *     clock they move
   */
  public RegionNodeVerticle(GenmeshConfig config, String regionName, MeterRegistry registry, Path imageDir, Clock clock) {
    this(config, regionName, registry, imageDir, configuredRegistryDir(config, regionName), clock);
  }

  /**
   * @param registryDir the model registry this node serves ({@code <name>/<version>/...},
   *     {@code <name>/CURRENT}); null: none (an empty listing). The other constructors use
   *     {@code <registry.dir>/<region>} when {@code registry.dir} is set.
   */
  public RegionNodeVerticle(GenmeshConfig config, String regionName, MeterRegistry registry, Path imageDir,
      Path registryDir, Clock clock) {
    this.registryDir = registryDir;
    this.clock = Objects.requireNonNull(clock, "clock");
    this.config = Objects.requireNonNull(config, "config");
    this.region = config.region(regionName);
    this.registry = Objects.requireNonNull(registry, "registry");
    this.imageDir = Objects.requireNonNull(imageDir, "imageDir");
  }

  @Override
  public Future<?> start() {
    metrics = new RegionMetrics(registry, region.name());
    io = vertx.createSharedWorkerExecutor("genmesh-region-io-" + region.name(), 4);
    hub = new ProgressHub(vertx, region.name());
    images = new ImageStore(imageDir, io);
    return connectPostgres()
        .compose(v -> migrate())
        .compose(v -> connectRedis())
        .compose(v -> hub.start())
        .compose(v -> rebuildQueues())
        .compose(v -> startSafetyGate())
        .compose(v -> registerConsumers())
        .compose(v -> startHttp())
        .compose(v -> startAutoscaler())
        .onSuccess(v -> {
          housekeeping = new Housekeeping(vertx, region.name(), log, queue, watch, reaper, workers, metrics, clock);
          housekeeping.start(config.queue().leaseReapIntervalMs(), config.health().heartbeatIntervalMs());
          safety.startSweeping();
          breakers.start();
          LOG.info("region node {} ({}) serving on {}:{}", region.name(), region.code(), region.httpHost(), actualPort());
        })
        .recover(err -> closeAll().transform(ignored -> Future.failedFuture(
            new IllegalStateException("region node " + region.name() + " failed to start: " + err.getMessage(), err))));
  }

  @Override
  public Future<?> stop() {
    return closeAll();
  }

  /**
   * What carries out this node's scaling decisions when {@code autoscaling.enabled} (set before
   * deploying; default: log only). The launcher gives its local actuator.
   */
  public RegionNodeVerticle withActuator(Actuator actuator) {
    this.actuator = Objects.requireNonNull(actuator, "actuator");
    return this;
  }

  /**
   * The safety service this node runs beside itself when {@code safety.url} is empty (set
   * before deploying). Without one, such a node fails to start.
   */
  public RegionNodeVerticle withLocalSafety(LocalSafetyService localSafety) {
    this.localSafety = Objects.requireNonNull(localSafety, "localSafety");
    return this;
  }

  /** The autoscaler's current targets per pool (empty when disabled or not leading). */
  public Map<String, Integer> scalingTargets() {
    return autoscaler == null ? Map.of() : autoscaler.targets();
  }

  /** The HTTP port the node listens on (the real one when the config asked for port 0). */
  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }

  public String regionName() {
    return region.name();
  }

  /**
   * The region's cluster member {@code nodeId} left (the launcher forwards Hazelcast's membership
   * events): its workers are gone at once, without waiting for their heartbeats to time out.
   * Safe from any thread.
   */
  public void memberLeft(String nodeId) {
    if (workers != null && context != null) {
      context.runOnContext(v -> workers.memberLeft(nodeId));
    }
  }

  /** Where this node's safety checks go ({@code .../v1/check}); null before start. */
  public String safetyCheckUrl() {
    return safety == null ? null : safety.checkUrl();
  }

  /** This node's circuit breakers (safe from any thread); null before the node started. */
  public Breakers breakers() {
    return breakers == null ? null : breakers.board();
  }

  /** The workers this node has heard from (safe from any thread). */
  public Collection<KnownWorker> knownWorkers() {
    return workers == null ? List.of() : workers.workers();
  }

  private Future<Void> connectPostgres() {
    RegionConfig.PostgresConfig pg = region.postgres();
    pool = PostgresPool.create(vertx, region);
    log = new RequestLog(pool);
    return log.ping().recover(err -> Future.failedFuture(new IllegalStateException(
        "PostgreSQL at " + pg.host() + ":" + pg.port() + "/" + pg.database() + " is unreachable: " + err.getMessage(), err)));
  }

  private Future<Void> migrate() {
    return new Migrations(vertx, pool).apply()
        .onSuccess(applied -> {
          if (!applied.isEmpty()) {
            LOG.info("region {}: schema migrations applied: {}", region.name(), applied);
          }
        })
        .recover(err -> Future.failedFuture(new IllegalStateException("schema migration failed: " + err.getMessage(), err)))
        .mapEmpty();
  }

  private Future<Void> connectRedis() {
    RegionConfig.RedisConfig rd = region.redis();
    redis = Redis.createClient(vertx, new RedisOptions()
        .setConnectionString(rd.url())
        .setMaxPoolSize(Math.max(8, region.postgres().poolSize()))
        .setMaxPoolWaiting(1024)
        .setMaxWaitingHandlers(4096));
    queue = new TierQueue(redis, rd.keyPrefix(), metrics, config.queue().relaxShare(), config.queue().routingHoldMs());
    return queue.ping().recover(err -> Future.failedFuture(new IllegalStateException(
        "Redis at " + withoutCredentials(rd.url()) + " is unreachable: " + err.getMessage(), err)));
  }

  /** The queue machinery, then the start-up rebuild (which fails the start if it fails). */
  private Future<Void> rebuildQueues() {
    long leaseMs = config.queue().leaseMs();
    routing = new Routing(config);
    workers = new WorkerRegistry(queue, leaseMs, config.health(), clock);
    metrics.workerGauges(state -> (int) workers.workers().stream().filter(w -> w.state() == state).count());
    eta = new EtaEstimator(config.queue().relaxShare(), workers::liveCount);
    fallbacks = new FallbackMover(vertx, region.name(), log, queue, hub, routing, registry, clock);
    WorkerHandBack handBacks = new WorkerHandBack(vertx, region.name(), log, queue, hub, routing,
        id -> workers.worker(id).map(KnownWorker::gpuClass).orElse(null), clock);
    breakers = new RegionBreakers(vertx, config, region.name(), registry, clock, this::servedByLiveWorker,
        new QueueBreakerActions(fallbacks, handBacks));
    retries = new Retries(log, queue, hub, metrics, new RetryPolicy(config.queue(), clock), routing, clock, breakers);
    reaper = new LeaseReaper(log, queue, workers, retries, metrics, leaseMs);
    workers.onTransition(new WorkerRecovery(vertx, region.name(), log, retries, metrics)::onTransition);
    QueueRebuild rebuild = new QueueRebuild(log, queue, reaper, routing, metrics, clock);
    watch = new RedisWatch(queue, rebuild, metrics, this::wakeWorkers);
    return rebuild.run("startup")
        .recover(err -> Future.failedFuture(new IllegalStateException("queue rebuild failed: " + err.getMessage(), err)))
        .compose(report -> queue.depths())
        .onSuccess(depths -> {
          queuesRebuilt = true;
          wakeWorkers(depths);
        })
        .mapEmpty();
  }

  /** Tells idle workers which tiers have work (after a rebuild). */
  private void wakeWorkers(Map<Tier, Long> depths) {
    metrics.depths(depths);
    depths.forEach((tier, depth) -> {
      if (depth > 0) {
        vertx.eventBus().publish(Addresses.workAvailable(region.name()), tier.wireName());
      }
    });
  }

  private Future<Void> registerConsumers() {
    String name = region.name();
    long leaseMs = config.queue().leaseMs();
    ClaimHandler claims = new ClaimHandler(log, queue, hub, metrics, routing, workers, eta, watch::keysLost, clock, leaseMs,
        breakers.board());
    WorkerReports reports = new WorkerReports(log, queue, images, hub, metrics, retries, eta, safety.gate(), breakers);
    EventBus bus = vertx.eventBus();
    consumers.add(bus.consumer(Addresses.claim(name), claims::handle));
    consumers.add(bus.consumer(Addresses.progress(name), reports::step));
    consumers.add(bus.consumer(Addresses.result(name), reports::result));
    consumers.add(bus.consumer(Addresses.failure(name), reports::failure));
    consumers.add(bus.consumer(Addresses.heartbeat(name), workers::heartbeat));
    // Every node answers warm-up asks, leading or not (docs/autoscaling.md, "Warm-up order").
    warmup = new WarmupAdvisor(vertx, name, pool, config::modelFamily, config.autoscaling().evaluationIntervalMs(),
        Math.max(config.autoscaling().coldStartMs(), WARMUP_PLAN_MIN_TTL_MS), clock, registry);
    consumers.add(bus.consumer(Addresses.warmup(name), warmup::handle));
    consumers.add(warmup.listen());
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList()).mapEmpty();
  }

  /** The safety gate (region-node/SAFETY.md, {@link RegionSafety}). */
  private Future<Void> startSafetyGate() {
    return RegionSafety.start(vertx, region.name(), config.safety(), pool, log, images, queue, hub, metrics, registry, clock,
            localSafety)
        .onSuccess(started -> safety = started)
        .mapEmpty();
  }

  private Future<Void> startHttp() {
    Submissions submissions = new Submissions(vertx, region.name(), region.code(), log, queue, hub, metrics, routing, eta,
        clock, breakers, fallbacks);
    Cancellations cancellations = new Cancellations(vertx, region.name(), log, queue, hub, metrics);
    RegionalApi api = new RegionalApi(vertx, region.name(), log, queue, submissions, hub, images, registry, metrics,
        cancellations, eta, clock);
    return vertx.createHttpServer(new HttpServerOptions().setHost(region.httpHost()).setPort(region.httpPort()))
        .requestHandler(withProbes(withRegistry(api.router())))
        .listen()
        .onSuccess(listening -> server = listening)
        .recover(err -> Future.failedFuture(new IllegalStateException(
            "cannot listen on " + region.httpHost() + ":" + region.httpPort() + ": " + err.getMessage(), err)))
        .mapEmpty();
  }

  /** The region's autoscaler (docs/autoscaling.md, "In the region node"), when enabled. */
  private Future<Void> startAutoscaler() {
    if (!config.autoscaling().enabled()) {
      return Future.succeededFuture();
    }
    leadership = new AutoscalerLeadership(pool, region.name());
    RegionObservations observations = new RegionObservations(pool, queue::depths, workers::workers, config::modelFamily, clock);
    DecisionPublisher publisher = new DecisionPublisher(vertx, region.name(), new ScalingDecisionLog(pool), registry);
    autoscaler = new Autoscaler(vertx, config, region.name(), clock, leadership::lead, observations::observe, publisher,
        actuator, registry, warmup::plan);
    return autoscaler.start();
  }

  /** A worker that takes work holds this model (a fallback target must be served). */
  private boolean servedByLiveWorker(String model) {
    return workers.workers().stream().anyMatch(w -> w.state().acceptsWork() && w.loadedModels().contains(model));
  }

  private Router withRegistry(Router router) {
    new RegistryRoutes(registryDir == null ? null : new ModelRegistry(registryDir), io).mount(router);
    new WorkerRoutes(workers).mount(router);
    return router;
  }

  private Router withProbes(Router router) {
    new RegionProbes(vertx, region.name(), log, queue, () -> queuesRebuilt, watch::rebuilding).mount(router);
    return router;
  }

  private static Path configuredRegistryDir(GenmeshConfig config, String regionName) {
    String dir = config.registry().dir();
    return dir.isBlank() ? null : Path.of(dir).resolve(regionName);
  }

  /** Closes whatever was opened, in reverse order; never fails. In-flight requests stay in the log. */
  private Future<Void> closeAll() {
    if (housekeeping != null) {
      housekeeping.stop();
      housekeeping = null;
    }
    Future<Void> chain = Future.succeededFuture();
    if (autoscaler != null) {
      Autoscaler stopping = autoscaler;
      autoscaler = null;
      chain = chain.transform(v -> stopping.stop());
    }
    if (leadership != null) {
      AutoscalerLeadership releasing = leadership;
      leadership = null;
      chain = chain.transform(v -> releasing.release());
    }
    if (breakers != null) {
      breakers.stop();
    }
    if (safety != null) {
      RegionSafety stopping = safety;
      safety = null;
      chain = chain.transform(v -> stopping.stop());
    }
    if (server != null) {
      HttpServer closing = server;
      server = null;
      chain = chain.transform(v -> closing.close());
    }
    for (MessageConsumer<?> consumer : consumers) {
      chain = chain.transform(v -> consumer.unregister());
    }
    consumers.clear();
    if (hub != null) {
      chain = chain.transform(v -> hub.stop());
    }
    if (redis != null) {
      Redis closing = redis;
      redis = null;
      chain = chain.transform(v -> closing.close());
    }
    if (pool != null) {
      Pool closing = pool;
      pool = null;
      chain = chain.transform(v -> closing.close());
    }
    if (io != null) {
      WorkerExecutor closing = io;
      io = null;
      chain = chain.transform(v -> closing.close());
    }
    if (metrics != null) {
      chain = chain.andThen(v -> metrics.close());
    }
    return chain.transform(v -> Future.succeededFuture());
  }

  private static String withoutCredentials(String url) {
    return url.replaceAll("//[^@/]*@", "//***@");
  }
}
