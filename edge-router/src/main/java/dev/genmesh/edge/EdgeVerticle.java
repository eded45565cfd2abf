package dev.genmesh.edge;

import dev.genmesh.config.EdgeConfig;
import dev.genmesh.config.EdgeLimits;
import dev.genmesh.config.failover.FailoverConfig;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.edge.access.impl.AccessRoutes;
import dev.genmesh.edge.access.impl.EdgeAccess;
import dev.genmesh.edge.docs.impl.ApiDocs;
import dev.genmesh.edge.impl.EdgeMetrics;
import dev.genmesh.edge.impl.GenerationRoutes;
import dev.genmesh.edge.impl.ImageProxy;
import dev.genmesh.edge.impl.ModelCatalog;
import dev.genmesh.edge.impl.ModelRoutes;
import dev.genmesh.edge.impl.OpsRoutes;
import dev.genmesh.edge.impl.ProgressRelay;
import dev.genmesh.edge.impl.PublicApi;
import dev.genmesh.edge.impl.ReadDeadlines;
import dev.genmesh.edge.impl.StreamLimits;
import dev.genmesh.edge.openai.impl.OpenAiRoutes;
import dev.genmesh.edge.ops.impl.OpsConsole;
import dev.genmesh.edge.ops.impl.OpsSampler;
import dev.genmesh.edge.regions.impl.AdoptionRedirects;
import dev.genmesh.edge.regions.impl.RegionClient;
import dev.genmesh.edge.regions.impl.RegionDirectory;
import dev.genmesh.edge.regions.impl.RegionHealth;
import dev.genmesh.edge.regions.impl.RegionPicker;
import dev.genmesh.edge.submit.impl.RequestValidator;
import dev.genmesh.edge.submit.impl.SubmissionForwarder;
import dev.genmesh.failover.FailoverParticipant;
import dev.genmesh.protocol.failover.RegionDecision;
import dev.genmesh.users.UserStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge router: the public HTTP API and WebSocket progress in front of the regions.
 * Validates submits, sends each to the lowest-latency healthy region (spilling over to the
 * next one when a region cannot take it), and relays status, events and images from the
 * region that holds a request. Regions are reached over HTTP only.
 */
public final class EdgeVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(EdgeVerticle.class);
  private static final String INDEX_PAGE = "/webroot/index.html";
  private static final int REGION_POOL_SIZE = 64;
  /** Threads of the edge's own blocking work: reading the web page at start, checking control images. */
  private static final int BLOCKING_THREADS = 2;

  private final GenmeshConfig config;
  private final MeterRegistry registry;
  private final Clock clock;
  private final UserStore users;
  private WorkerExecutor blocking;
  private WebClient web;
  private WebSocketClient webSockets;
  private RegionHealth health;
  private FailoverParticipant failover;
  private OpsSampler ops;
  private EdgeMetrics metrics;
  private ReadDeadlines deadlines;
  private volatile int actualPort = -1;
  private Router router;

  public EdgeVerticle(GenmeshConfig config, MeterRegistry registry) {
    this(config, registry, Clock.systemUTC());
  }

  /** @param clock stamps region health changes */
  public EdgeVerticle(GenmeshConfig config, MeterRegistry registry, Clock clock) {
    this(config, registry, clock, null);
  }

  /**
   * @param clock stamps region health changes and share links' expiry
   * @param users the user database (accounts, keys, the generation index), opened and closed by
   *     whoever starts the edge; null: only {@code edge.api_keys}, no listing, no admin API
   */
  public EdgeVerticle(GenmeshConfig config, MeterRegistry registry, Clock clock, UserStore users) {
    this.config = config;
    this.registry = registry;
    this.clock = clock;
    this.users = users;
  }

  /** The edge's failover participant: its opinions and the quorum's decisions (null before start). */
  public FailoverParticipant failover() {
    return failover;
  }

  /** The port the edge listens on once started (useful when the configured port is 0). */
  public int actualPort() {
    if (actualPort < 0) {
      throw new IllegalStateException("the edge has not started");
    }
    return actualPort;
  }

  /** The edge's HTTP routes (null before start): the contract test compares them with openapi.yaml. */
  Router router() {
    return router;
  }

  @Override
  public Future<?> start() {
    blocking = vertx.createSharedWorkerExecutor("genmesh-edge-blocking", BLOCKING_THREADS);
    return loadIndexPage()
        .compose(page -> blocking.executeBlocking(ApiDocs::load).compose(docs -> blocking.executeBlocking(OpsConsole::loadPage)
            .map(opsPage -> router(page, docs, opsPage))))
        .compose(this::listen)
        .onSuccess(server -> {
          actualPort = server.actualPort();
          health.start();
          failover.start();
          if (users != null) {
            ops.start(); // without a user database there is no admin key, so no console to feed
          }
          LOG.info("edge listening on {}:{}, regions {}", config.edge().host(), actualPort, new TreeSet<>(config.regions().keySet()));
        })
        // Reported once, by whoever deployed it.
        .recover(failed -> stop().transform(v -> Future.failedFuture(new IllegalStateException(
            "edge failed to start on " + config.edge().host() + ":" + config.edge().port() + ": " + failed.getMessage(),
            failed))));
  }

  @Override
  public Future<?> stop() {
    if (health != null) {
      health.stop();
    }
    if (failover != null) {
      failover.stop();
    }
    if (ops != null) {
      ops.stop();
    }
    if (metrics != null) {
      metrics.close();
    }
    if (web != null) {
      web.close();
    }
    Future<Void> closed = webSockets == null ? Future.succeededFuture() : webSockets.close();
    return closed.eventually(() -> blocking == null ? Future.succeededFuture() : blocking.close());
  }

  private Future<Buffer> loadIndexPage() {
    return blocking.executeBlocking(() -> {
      try (InputStream in = EdgeVerticle.class.getResourceAsStream(INDEX_PAGE)) {
        if (in == null) {
          throw new IllegalStateException("web page missing from the classpath: " + INDEX_PAGE);
        }
        return Buffer.buffer(in.readAllBytes());
      } catch (IOException e) {
        throw new IllegalStateException("cannot read " + INDEX_PAGE, e);
      }
    });
  }

  private Router router(Buffer indexPage, ApiDocs docs, Buffer opsPage) {
    EdgeConfig edge = config.edge();
    long timeoutMs = edge.regionTimeoutMs();
    web = WebClient.create(vertx,
        new WebClientOptions().setUserAgent("genmesh-edge").setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMs)),
        new PoolOptions().setHttp1MaxSize(REGION_POOL_SIZE));
    webSockets = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(Integer.MAX_VALUE));
    failover = new FailoverParticipant(vertx, config, FailoverConfig.EDGE, clock, registry);
    RegionDirectory regions = RegionDirectory.of(config.regions(), region -> new RegionClient(region, web, webSockets, timeoutMs))
        .following(failover::servingRegion, region -> failover.state(region) == RegionDecision.State.DOWN)
        .followingAdoptions(new AdoptionRedirects(clock, registry));
    health = new RegionHealth(vertx, regions.all(), edge.regionHealthIntervalMs(),
        Math.min(timeoutMs, edge.regionHealthIntervalMs()), clock);
    metrics = new EdgeMetrics(registry);
    metrics.watchHealthyRegions(health::healthyCount);
    long retryAfterSeconds = Math.max(1, (edge.regionHealthIntervalMs() + 999) / 1000);
    SubmissionForwarder forwarder = new SubmissionForwarder(
        regions, new RegionPicker(config.regions().keySet(), edge.latencyMs()), health, metrics, retryAfterSeconds);
    ModelCatalog catalog = new ModelCatalog(config.models(),
        config.regions().keySet().stream().map(regions::byName).toList(), config.registry().catalogCacheMs());
    EdgeLimits limits = edge.limits();
    deadlines = new ReadDeadlines(vertx, limits.keepAliveTimeoutMs(), limits.bodyTimeoutMs(), metrics);
    EdgeAccess access = new EdgeAccess(vertx, config, users, regions, registry, clock, retryAfterSeconds);
    OpenAiRoutes openAi = new OpenAiRoutes(vertx, edge.openai(), config.models().keySet(), web, edge.host(),
        () -> actualPort, clock, registry);
    router = PublicApi.router(vertx, edge.maxBodyBytes(), access, deadlines,
        new GenerationRoutes(new RequestValidator(config, catalog::versions), blocking, forwarder, regions, metrics,
            retryAfterSeconds, access.index(), access.limiter(), access.quotas()),
        new ProgressRelay(vertx, regions, retryAfterSeconds, new StreamLimits(limits.maxStreamsPerClient()),
            PublicApi::client, deadlines, limits.streamPingIntervalMs(), resumeForMs()),
        new ImageProxy(regions, origin -> config.images().copyHolder(origin, List.copyOf(config.regions().keySet()))
            .map(regions::byName), retryAfterSeconds, config.images().edgeDelivery(), config.images().presignTtlMs()),
        new OpsRoutes(vertx, health, registry),
        new ModelRoutes(catalog),
        indexPage, openAi::mount, docs::mount);
    failover.mount(router);
    ops = new OpsSampler(vertx, regions.all(), health, this::failoverView, edge.ops(), clock, registry);
    new OpsConsole(vertx, ops, opsPage).mount(router);
    return router;
  }

  /** The edge's failover view of each region, for the operator console. */
  private JsonObject failoverView() {
    JsonObject regions = new JsonObject();
    new TreeSet<>(config.regions().keySet()).forEach(name -> regions.put(name, new JsonObject()
        .put("state", failover.state(name).name().toLowerCase(java.util.Locale.ROOT))
        .put("serving", failover.servingRegion(name))));
    return new JsonObject().put("enabled", config.failover().enabled()).put("regions", regions);
  }

  /**
   * With failover on, a broken region stream is resumed by the edge for as long as a dead region
   * takes to be declared down, plus time for its adopter to take the request over.
   */
  private long resumeForMs() {
    FailoverConfig failoverConfig = config.failover();
    return failoverConfig.enabled()
        ? failoverConfig.detectAfterMs() + 2 * failoverConfig.pollIntervalMs() + failoverConfig.pollTimeoutMs() + 30_000 : 0;
  }

  private Future<HttpServer> listen(Router router) {
    HttpServerOptions options = new HttpServerOptions().setHost(config.edge().host()).setPort(config.edge().port())
        .setIdleTimeout((int) config.edge().limits().idleTimeoutMs()).setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
        .setWebSocketSubProtocols(List.of(AccessRoutes.EVENTS_SUBPROTOCOL)); // a browser's key rides beside it
    return vertx.createHttpServer(options)
        .connectionHandler(deadlines::opened)
        .invalidRequestHandler(PublicApi::malformed)
        .requestHandler(router)
        .listen();
  }
}
