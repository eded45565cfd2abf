package dev.genmesh.launcher.regions;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.launcher.chaos.FaultPoints;
import dev.genmesh.launcher.chaos.RegionOutages;
import dev.genmesh.launcher.scaling.impl.WorkerConfigFile;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The regions of {@code genmesh up --region-processes} (docs/failover.md, "Losing a region in
 * genmesh up"): each region's node, workers, PostgreSQL and Redis are processes of their own and it has an
 * object store of its own ({@link RegionStores}), so that a region can be SIGKILLed alone ({@link #kill}), its queues
 * and images out of reach, and started again on its data ({@link #start}) while {@code up} keeps the edge, the user
 * database, the GeoDNS responder and the control API. Failover is on. A region keeps its HTTP port across a kill, as a real region keeps its
 * address: the edge and its peers know it by it.
 */
public final class RegionProcesses implements RegionOutages, AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(180);

  /**
   * @param workersPerRegion worker processes this JVM starts per region; with {@code autoscale}, the warm pool each
   *     node's own autoscaler keeps (it starts them, as its children)
   * @param postgres starts a killed region's PostgreSQL again on its data and port
   */
  public record Options(Path dataDir, String bindHost, boolean autoscale, int workersPerRegion, PostgresStarter postgres,
      boolean durable) {}

  /** Starts region's own PostgreSQL again after a kill, its output to {@code log}; blocking. */
  @FunctionalInterface
  public interface PostgresStarter {
    void start(String region, Path log) throws java.io.IOException;
  }

  private final Options options;
  private final Map<String, RegionGroup> groups = new LinkedHashMap<>();
  private final Map<String, RegionStores> stores = new LinkedHashMap<>();
  private volatile GenmeshConfig running;

  public RegionProcesses(Options options) {
    this.options = options;
  }

  /**
   * The config with failover on and each region's HTTP port fixed: a port of 0 ({@code --random-ports}) becomes
   * a free one below the ephemeral range, chosen now and kept across kills.
   */
  public static GenmeshConfig pinned(GenmeshConfig config, String bindHost) {
    Map<String, RegionConfig> regions = new LinkedHashMap<>();
    config.regions().values().forEach(r -> {
      int port = r.httpPort() == 0 ? StablePorts.pick() : r.httpPort();
      regions.put(r.name(), r.withHttpPort(port).withApiUrl(r.apiUrl().isBlank() ? "http://" + bindHost + ":" + port
          : r.apiUrl()));
    });
    return config.withRegions(regions).withFailover(config.failover().withEnabled(true));
  }

  /**
   * Starts each region's own Redis and object store ({@link RegionStores}) and returns {@code config} pointed at them:
   * each region's {@code redis.url} (no sentinel) and {@code images.regions.<region>.endpoint} (through {@code faults}'
   * {@code objects-<region>} proxy with {@code --chaos}), which the edge, the image copier, the backups' copies and the
   * workers follow. Their stores sign with the keys in {@code credentialsFile}.
   */
  public GenmeshConfig startStores(GenmeshConfig config, Path credentialsFile, FaultPoints faults,
      Consumer<String> progress) {
    progress.accept("starting each region's own Redis and object store (S3Proxy) under "
        + options.dataDir().resolve("regions") + "/<region>");
    GenmeshConfig pointed = config;
    for (String region : config.regions().keySet()) {
      RegionStores own = RegionStores.start(region, options.dataDir(), options.durable(), config, credentialsFile);
      stores.put(region, own);
      pointed = own.applyTo(pointed, faults);
    }
    return pointed;
  }

  /** The folder of {@code region}'s own Redis server (what its backups copy). */
  public static Path redisDir(Path dataDir, String region) {
    return RegionStores.redisDir(dataDir, region);
  }

  /** Region → {@code 127.0.0.1:<port>} of its own Redis server. */
  public Map<String, String> redisAddresses() {
    Map<String, String> out = new LinkedHashMap<>();
    stores.forEach((region, own) -> out.put(region, "127.0.0.1:" + own.redisPort()));
    return out;
  }

  /** Region → the endpoint of its own object store (not a fault proxy's). */
  public Map<String, String> objectStores() {
    Map<String, String> out = new LinkedHashMap<>();
    stores.forEach((region, own) -> out.put(region, own.describe().getString("object_store")));
    return out;
  }

  /**
   * Writes each region's config file ({@code <data dir>/regions/<region>.yaml}: the settings of {@code tree} with
   * the running ports, stores, failover on and the edge's URL) and starts every region; returns once each node answers.
   *
   * @param postgresPorts region → the port of its own PostgreSQL server (not a fault proxy's)
   */
  public GenmeshConfig start(GenmeshConfig config, Map<String, Object> tree, String edgeUrl,
      Map<String, Integer> postgresPorts, Consumer<String> progress) {
    running = config.withFailover(config.failover().withEdgeUrl(edgeUrl));
    Map<String, Object> withFailover = new LinkedHashMap<>(tree);
    Map<String, Object> failover = new LinkedHashMap<>(asMap(tree.get("failover")));
    failover.put("enabled", true);
    failover.put("edge_url", edgeUrl);
    withFailover.put("failover", failover);
    for (RegionConfig region : running.regions().values()) {
      Path file = WorkerConfigFile.write(options.dataDir().resolve("regions"), withFailover, running, region.name(),
          region.name() + ".yaml", "the processes of region " + region.name() + " (genmesh up --region-processes)");
      groups.put(region.name(), new RegionGroup(region.name(), new RegionGroup.Setup(options.dataDir(),
          options.bindHost(), file, List.copyOf(running.regions().keySet()), region.code(), options.workersPerRegion(),
          options.autoscale(),
          postgresPorts.get(region.name()), options.postgres(), stores.get(region.name()))));
    }
    groups.forEach((name, group) -> {
      progress.accept("starting region " + name + " as processes: its node (genmesh region, output in "
          + RegionGroup.nodeLog(options.dataDir(), name) + ")" + (options.autoscale() ? ", whose autoscaler starts its workers"
          : " and " + options.workersPerRegion() + " worker process(es)"));
      group.start();
    });
    groups.keySet().forEach(this::awaitLive);
    return running;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object value) {
    return value instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
  }

  @Override
  public boolean available() {
    return true;
  }

  @Override
  public JsonObject describe() {
    JsonObject all = new JsonObject();
    groups.forEach((name, group) -> all.put(name, group.describe()));
    return all;
  }

  @Override
  public JsonObject kill(String region) {
    return group(region).kill();
  }

  @Override
  public JsonObject start(String region) {
    long started = System.nanoTime();
    JsonObject result = group(region).start();
    awaitLive(region);
    return result.put("live_after_s", (System.nanoTime() - started) / 1e9);
  }

  @Override
  public JsonObject redis() {
    JsonObject all = new JsonObject();
    stores.forEach((region, own) -> all.put(region, new JsonObject().put("port", own.redisPort())
        .put("pid", own.redisProcess().map(ProcessHandle::pid).orElse(null))
        .put("running", own.redisProcess().isPresent())));
    return all;
  }

  @Override
  public java.util.Optional<Long> redisPid(String region) {
    group(region);
    return stores.get(region).redisProcess().map(ProcessHandle::pid);
  }

  @Override
  public JsonObject startRedis(String region) {
    if (!group(region).running()) {
      throw new IllegalStateException("region " + region + " is down whole: 'genmesh region-start " + region
          + "' starts it with its Redis");
    }
    RegionStores own = stores.get(region);
    boolean started = own.startRedisIfDead();
    return new JsonObject().put("region", region).put("started", started).put("port", own.redisPort())
        .put("pid", own.redisProcess().map(ProcessHandle::pid).orElse(null));
  }

  /** Worker id → pid of every region's worker processes alive now. */
  public Map<String, Long> workerPids() {
    Map<String, Long> pids = new LinkedHashMap<>();
    groups.values().forEach(g -> pids.putAll(g.workerPids()));
    return pids;
  }

  private RegionGroup group(String region) {
    RegionGroup group = groups.get(region);
    if (group == null) {
      throw new java.util.NoSuchElementException("no region " + region + " in this mesh (known: " + groups.keySet() + ")");
    }
    return group;
  }

  /** Waits until the region's node answers {@code /health/live} on its fixed port. */
  private void awaitLive(String region) {
    String url = running.region(region).effectiveApiUrl() + "/health/live";
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!group(region).running()) {
        throw new IllegalStateException("the node of region " + region + " exited while starting; see "
            + RegionGroup.nodeLog(options.dataDir(), region));
      }
      try {
        if (client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (java.io.IOException e) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for region " + region);
      }
      sleep(200);
    }
    throw new IllegalStateException("region " + region + " did not answer " + url + " within " + START_TIMEOUT.toSeconds()
        + " s; see " + RegionGroup.nodeLog(options.dataDir(), region));
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops every region gently (workers, then the node, then its Redis and object store), in parallel. */
  @Override
  public void close() {
    groups.values().parallelStream().forEach(RegionGroup::stop);
    stores.values().forEach(RegionStores::close); // those of a start that failed before its groups existed
  }
}
