package dev.genmesh.edge;

import dev.genmesh.config.EdgeConfig;
import dev.genmesh.config.EdgeLimits;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.edge.impl.ApiKeys;
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
import dev.genmesh.edge.regions.impl.RegionClient;
import dev.genmesh.edge.regions.impl.RegionDirectory;
import dev.genmesh.edge.regions.impl.RegionHealth;
import dev.genmesh.edge.regions.impl.RegionPicker;
import dev.genmesh.edge.submit.impl.RequestValidator;
import dev.genmesh.edge.submit.impl.SubmissionForwarder;
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
  private WorkerExecutor blocking;
  private WebClient web;
  private WebSocketClient webSockets;
  private RegionHealth health;
  private EdgeMetrics metrics;
  private ReadDeadlines deadlines;
  private volatile int actualPort = -1;

  public EdgeVerticle(GenmeshConfig config, MeterRegistry registry) {
    this(config, registry, Clock.systemUTC());
  }

  /** @param clock stamps region health changes */
  public EdgeVerticle(GenmeshConfig config, MeterRegistry registry, Clock clock) {
    this.config = config;
    this.registry = registry;
    this.clock = clock;
  }

  /** The port the edge listens on once started (useful when the configured port is 0). */
  public int actualPort() {
    if (actualPort < 0) {
      throw new IllegalStateException("the edge has not started");
    }
    return actualPort;
  }

  @Override
  public Future<?> start() {
    blocking = vertx.createSharedWorkerExecutor("genmesh-edge-blocking", BLOCKING_THREADS);
    return loadIndexPage()
        .map(this::router)
        .compose(this::listen)
        .onSuccess(server -> {
          actualPort = server.actualPort();
          health.start();
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

  private Router router(Buffer indexPage) {
    EdgeConfig edge = config.edge();
    long timeoutMs = edge.regionTimeoutMs();
    web = WebClient.create(vertx,
        new WebClientOptions().setUserAgent("genmesh-edge").setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMs)),
        new PoolOptions().setHttp1MaxSize(REGION_POOL_SIZE));
    webSockets = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(Integer.MAX_VALUE));
    RegionDirectory regions = RegionDirectory.of(config.regions(), region -> new RegionClient(region, web, webSockets, timeoutMs));
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
    ApiKeys keys = new ApiKeys(edge);
    return PublicApi.router(vertx, edge.maxBodyBytes(), keys, deadlines,
        new GenerationRoutes(new RequestValidator(config, catalog::versions), blocking, forwarder, regions, metrics,
            retryAfterSeconds),
        new ProgressRelay(vertx, regions, retryAfterSeconds, new StreamLimits(limits.maxStreamsPerClient()),
            request -> PublicApi.client(request, keys), deadlines, limits.streamPingIntervalMs()),
        new ImageProxy(regions, origin -> config.images().copyHolder(origin, List.copyOf(config.regions().keySet()))
            .map(regions::byName), retryAfterSeconds, config.images().edgeDelivery(), config.images().presignTtlMs()),
        new OpsRoutes(vertx, health, registry),
        new ModelRoutes(catalog),
        indexPage);
  }

  private Future<HttpServer> listen(Router router) {
    HttpServerOptions options = new HttpServerOptions().setHost(config.edge().host()).setPort(config.edge().port())
        .setIdleTimeout((int) config.edge().limits().idleTimeoutMs()).setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
    return vertx.createHttpServer(options)
        .connectionHandler(deadlines::opened)
        .invalidRequestHandler(PublicApi::malformed)
        .requestHandler(router)
        .listen();
  }
}
