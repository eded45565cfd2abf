package dev.genmesh.region;

import dev.genmesh.autoscaler.Actuator;
import dev.genmesh.breakers.Breakers;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.failover.FailoverParticipant;
import dev.genmesh.images.ImageStore;
import dev.genmesh.images.ImageStores;
import dev.genmesh.region.api.RegionalApi;
import dev.genmesh.region.api.impl.OpsRoutes;
import dev.genmesh.region.api.impl.RegionProbes;
import dev.genmesh.region.api.impl.WorkerRoutes;
import dev.genmesh.region.autoscale.RegionAutoscaling;
import dev.genmesh.region.autoscale.impl.LoggingActuator;
import dev.genmesh.region.failover.FailoverRoutes;
import dev.genmesh.region.failover.FailureDetection;
import dev.genmesh.region.failover.HeldResults;
import dev.genmesh.region.failover.RegionFailover;
import dev.genmesh.region.images.ImageCopies;
import dev.genmesh.region.images.ImageSweeper;
import dev.genmesh.region.integration.RegionIntegration;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.region.requests.ProgressHub;
import dev.genmesh.region.requests.impl.Cancellations;
import dev.genmesh.region.requests.impl.Submissions;
import dev.genmesh.region.safety.LocalSafetyService;
import dev.genmesh.region.safety.RegionSafety;
import dev.genmesh.region.scheduler.Routing;
import dev.genmesh.region.scheduler.impl.ParkedClaims;
import dev.genmesh.region.workers.KnownWorker;
import dev.genmesh.registry.ModelRegistry;
import dev.genmesh.registry.RegistryMirror;
import dev.genmesh.registry.RegistryRoutes;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The region node: the region's request log (Postgres), tier queues and leases (Redis), the
 * scheduler workers claim from over the event bus, and the regional HTTP API the edge calls. The
 * images are in the region's object store (workers upload them; this node records their keys,
 * serves them and sweeps unpublished ones). Deploy one per region member; several may share one
 * region's stores.
 */
public final class RegionNodeVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(RegionNodeVerticle.class);

  private final GenmeshConfig config;
  private final RegionConfig region;
  private final MeterRegistry meters;
  private final Path registryDir;
  private final Clock clock;

  private WorkerExecutor io;
  private RegionMetrics metrics;
  private RegionStores stores;
  private ProgressHub hub;
  private RegionContext ctx;
  private ImageStore images;
  private ParkedClaims parked;
  private ImageSweeper imageSweeper;
  private ImageCopies imageCopies;
  private volatile QueueMachinery machinery;
  private volatile RegionSafety safety;
  private volatile RegionAutoscaling autoscaling;
  private volatile RegionFailover failover;
  private volatile FailureDetection detection;
  private HeldResults heldResults;
  private volatile HttpServer server;
  private volatile Actuator actuator = new LoggingActuator();
  private LocalSafetyService localSafety;
  private Housekeeping housekeeping;
  private Supplier<String> primaryRegistryUrl;
  private RegistryMirror registryMirror;
  private RegionIntegration integration;
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();

  /** @param regionName a key of {@code config.regions()} */
  public RegionNodeVerticle(GenmeshConfig config, String regionName, MeterRegistry meters) {
    this(config, regionName, meters, Clock.systemUTC());
  }

  /** @param clock the time of the queue policies (retry backoff, routing hold, ETA); tests pass a clock they move */
  public RegionNodeVerticle(GenmeshConfig config, String regionName, MeterRegistry meters, Clock clock) {
    this(config, regionName, meters, config.registry().regionDir(regionName), clock);
  }

  /**
   * Finished images are in the region's bucket of {@code images} (the config's object store).
   *
   * @param registryDir the model registry this node serves ({@code <name>/<version>/...},
   *     {@code <name>/CURRENT}); null: none (an empty listing). The other constructors use
   *     {@code <registry.dir>/<region>} when {@code registry.dir} is set.
   */
  public RegionNodeVerticle(GenmeshConfig config, String regionName, MeterRegistry meters, Path registryDir,
      Clock clock) {
    this.registryDir = registryDir;
    this.clock = Objects.requireNonNull(clock, "clock");
    this.config = Objects.requireNonNull(config, "config");
    this.region = config.region(regionName);
    this.meters = Objects.requireNonNull(meters, "meters");
  }

  @Override
  public Future<?> start() {
    metrics = new RegionMetrics(meters, region.name());
    io = vertx.createSharedWorkerExecutor("genmesh-region-io-" + region.name(), 4);
    hub = new ProgressHub(vertx, region.name());
    images = ImageStores.s3(vertx, config.images().forRegion(region.name()));
    stores = new RegionStores(vertx, config, region);
    return stores.open(metrics, io, meters, clock)
        .compose(v -> {
          parked = new ParkedClaims(vertx, context, region.name(), new Routing(config));
          metrics.waitingClaims(parked, ParkedClaims::size);
          ctx = new RegionContext(vertx, region.name(), config, stores.log(), stores.queue(), hub, metrics, meters, io,
              clock, parked);
          imageCopies = ImageCopies.open(ctx, stores.pool(), images);
          return hub.start();
        })
        .compose(v -> rebuildQueues())
        .compose(v -> startSafetyGate())
        .compose(v -> registerConsumers())
        .compose(v -> startHttp())
        .compose(v -> (integration = new RegionIntegration(ctx, stores.pool())).start()) // usage events, bridge
        .compose(v -> autoscaling.start(actuator))
        .onSuccess(v -> {
          housekeeping = new Housekeeping(ctx, machinery.watch, machinery.reaper, machinery.workers);
          housekeeping.start(config.queue().leaseReapIntervalMs(), config.health().heartbeatIntervalMs());
          safety.startSweeping();
          (imageSweeper = new ImageSweeper(ctx, stores.pool(), images)).start();
          imageCopies.start();
          machinery.breakers.start();
          detection.start();
          Optional.ofNullable(registryMirror).ifPresent(RegistryMirror::start);
          LOG.info("region node {} ({}) serving on {}:{}", region.name(), region.code(), region.httpHost(), actualPort());
        })
        .recover(err -> {
          // The one report of a failed start: the steps describe what failed, this says it once.
          LOG.error("region node {} failed to start: {}", region.name(), err.getMessage());
          return closeAll().transform(ignored -> Future.failedFuture(
              new IllegalStateException("region node " + region.name() + " failed to start: " + err.getMessage(), err)));
        });
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

  /**
   * Where the primary region's registry answers when the config's {@code api_url} does not say
   * (set before deploying; {@code genmesh up} gives the primary's real port).
   */
  public RegionNodeVerticle withPrimaryRegistryUrl(Supplier<String> url) {
    this.primaryRegistryUrl = Objects.requireNonNull(url, "url");
    return this;
  }

  /** The autoscaler's current targets per pool (empty when disabled or not leading). */
  public Map<String, Integer> scalingTargets() {
    return autoscaling == null ? Map.of() : autoscaling.targets();
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
    if (machinery != null && context != null) {
      context.runOnContext(v -> machinery.workers.memberLeft(nodeId));
    }
  }

  /** Where this node's safety checks go ({@code .../v1/check}); null before start. */
  public String safetyCheckUrl() {
    return safety == null ? null : safety.checkUrl();
  }

  /** The copies of images across regions (after start). */
  public ImageCopies imageCopies() {
    return imageCopies;
  }

  /** This node's circuit breakers (safe from any thread); null before the node started. */
  public Breakers breakers() {
    return machinery == null ? null : machinery.breakers.board();
  }

  /** The workers this node has heard from (safe from any thread). */
  public Collection<KnownWorker> knownWorkers() {
    return machinery == null ? List.of() : machinery.workers.workers();
  }

  /**
   * The queue machinery, the fail-back reconciliation with the peer region (before anything is
   * dispatched), then the start-up rebuild (which fails the start if it fails).
   */
  private Future<Void> rebuildQueues() {
    machinery = new QueueMachinery(ctx);
    detection = new FailureDetection(ctx, machinery::queuesRebuilt);
    autoscaling = new RegionAutoscaling(ctx, stores.pool(), machinery.workers::workers);
    QueueMachinery m = machinery;
    failover = new RegionFailover(ctx, stores.pool(), stores.replication(), m.routing, m.eta, m::servedByLiveWorker);
    detection.participant().onReturn(failover::reconcile); // a partitioned region returns without a restart
    return failover.reconcile().compose(v -> m.rebuildQueues());
  }

  /** The safety gate (region-node/SAFETY.md, {@link RegionSafety}). */
  private Future<Void> startSafetyGate() {
    return RegionSafety.start(ctx, stores.pool(), images, localSafety).onSuccess(started -> {
      safety = started;
      // Results held while fenced (docs/architecture.md, "Held results").
      heldResults = new HeldResults(ctx, stores.pool(), detection.participant(), stores.replication(), failover::adopted);
      heldResults.start(started.gate(), images);
    }).mapEmpty();
  }

  private Future<Void> registerConsumers() {
    consumers.addAll(WorkerConsumers.register(ctx, machinery, parked, safety.gate(), detection::fenced));
    consumers.addAll(autoscaling.warmupConsumers());
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList()).compose(v -> failover.listen());
  }

  private Future<Void> startHttp() {
    QueueMachinery m = machinery;
    Submissions submissions = new Submissions(ctx, m.routing, m.eta, m.breakers, m.fallbacks);
    RegionalApi api = new RegionalApi(ctx, submissions, images, imageCopies, new Cancellations(ctx), m.eta, failover.replicaReads());
    return vertx.createHttpServer(new HttpServerOptions().setHost(region.httpHost()).setPort(region.httpPort()))
        .requestHandler(withProbes(withRegistry(api.router())))
        .listen()
        .onSuccess(listening -> server = listening)
        .recover(err -> Future.failedFuture(new IllegalStateException(
            "cannot listen on " + region.httpHost() + ":" + region.httpPort() + ": " + err.getMessage(), err)))
        .mapEmpty();
  }

  private Router withRegistry(Router router) {
    ModelRegistry registry = registryDir == null ? null : new ModelRegistry(registryDir);
    registryMirror = RegistryMirror.forRegion(vertx, config, region.name(), registry, primaryRegistryUrl, io, meters);
    new RegistryRoutes(registry, io, registryMirror).mount(router);
    new WorkerRoutes(machinery.workers).mount(router);
    consumers.add(OpsRoutes.mount(router, ctx, machinery.breakers::board, machinery.workers::workers, stores.pool()));
    new FailoverRoutes(config, region.name(), failover, stores.replication(), detection.participant()::urlOf)
        .mount(router);
    return router;
  }

  private Router withProbes(Router router) {
    new RegionProbes(ctx, machinery::queuesRebuilt, machinery.watch::rebuilding, detection::fenced,
        stores.replication()::status).mount(router);
    detection.mount(router);
    return router;
  }

  /** This node's failover participant (decisions, fencing); null before start. */
  public FailoverParticipant failover() {
    return detection == null ? null : detection.participant();
  }

  /** Closes whatever was opened, in reverse order; never fails. In-flight requests stay in the log. */
  private Future<Void> closeAll() {
    if (detection != null) {
      detection.stop();
    }
    if (heldResults != null) {
      heldResults.stop(); // its timer only; the gate it holds for stops below
    }
    if (registryMirror != null) {
      registryMirror.stop();
      registryMirror = null;
    }
    if (housekeeping != null) {
      housekeeping.stop();
      housekeeping = null;
    }
    if (imageSweeper != null) {
      imageSweeper.stop();
      imageSweeper = null;
    }
    Optional.ofNullable(imageCopies).ifPresent(ImageCopies::stop);
    Future<Void> chain = integration == null ? Future.succeededFuture() : integration.stop();
    if (autoscaling != null) {
      RegionAutoscaling stopping = autoscaling;
      chain = chain.transform(v -> stopping.stop());
    }
    if (machinery != null) {
      machinery.breakers.stop();
    }
    if (failover != null) {
      RegionFailover stopping = failover;
      failover = null;
      chain = chain.transform(v -> stopping.stop());
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
    if (parked != null) {
      parked.close(); // waiting claims answered NO_WORK: their workers claim elsewhere
    }
    for (MessageConsumer<?> consumer : consumers) {
      chain = chain.transform(v -> consumer.unregister());
    }
    consumers.clear();
    if (hub != null) {
      chain = chain.transform(v -> hub.stop());
    }
    if (stores != null) {
      RegionStores closing = stores;
      chain = chain.transform(v -> closing.close());
    }
    if (imageCopies != null) {
      ImageCopies closing = imageCopies;
      imageCopies = null;
      chain = chain.transform(v -> closing.close());
    }
    if (images != null) {
      ImageStore closing = images;
      images = null;
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
}
