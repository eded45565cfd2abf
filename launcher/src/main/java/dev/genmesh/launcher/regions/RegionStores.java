package dev.genmesh.launcher.regions;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ImagesConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.embedded.EmbeddedObjectStore;
import dev.genmesh.embedded.EmbeddedStores;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.RedisServer;

/**
 * A region's own Redis and object store in {@code genmesh up --region-processes}: a Redis server (a process; no
 * replica or sentinel of its own) with its data in {@code <data dir>/regions/<region>/redis}, and an
 * {@link EmbeddedObjectStore} in the {@code up} JVM with its objects in {@code <data dir>/regions/<region>/s3}
 * holding the region's bucket and the copies bucket it keeps for its ring predecessor. Both keep their ports across
 * a kill (the region's config names them); a kill SIGKILLs the Redis server and stops the store, so what they hold
 * is out of reach until the region is started again on their data.
 */
final class RegionStores implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RegionStores.class);

  private final String region;
  private final Path dir;
  private final boolean durable;
  private final List<String> buckets;
  private final Path sharedCredentials;
  private final int redisPort = StablePorts.pick();
  private int objectsPort;
  private RedisServer redis;
  private EmbeddedObjectStore objects;

  private RegionStores(String region, Path dataDir, boolean durable, List<String> buckets, Path sharedCredentials) {
    this.region = region;
    this.dir = dataDir.resolve("regions").resolve(region);
    this.durable = durable;
    this.buckets = buckets;
    this.sharedCredentials = sharedCredentials;
  }

  /**
   * Starts {@code region}'s stores. The store signs with the keys of {@code sharedCredentials} (the mesh's store's
   * file, copied in), so one {@code images.credentials_file} serves every region's store.
   */
  static RegionStores start(String region, Path dataDir, boolean durable, GenmeshConfig config, Path sharedCredentials) {
    ImagesConfig images = config.images();
    List<String> names = List.copyOf(config.regions().keySet());
    List<String> buckets = new ArrayList<>(List.of(images.forRegion(region).bucket()));
    if (!images.copiesHeldFor(region, names).isEmpty()) {
      buckets.add(images.copiesOf(region).bucket());
    }
    RegionStores stores = new RegionStores(region, dataDir, durable, List.copyOf(buckets), sharedCredentials);
    stores.startIfDead();
    return stores;
  }

  /** {@code config} with {@code region}'s Redis (direct, no sentinel) and image endpoint pointed at these stores. */
  GenmeshConfig applyTo(GenmeshConfig config) {
    RegionConfig own = config.region(region);
    var regions = new java.util.LinkedHashMap<>(config.regions());
    regions.put(region, own.withStores(own.postgres(),
        new RegionConfig.RedisConfig("redis://127.0.0.1:" + redisPort, own.redis().keyPrefix())));
    return config.withRegions(regions).withImages(config.images().withRegionEndpoint(region, objectsEndpoint()));
  }

  private String objectsEndpoint() {
    return "http://127.0.0.1:" + objectsPort;
  }

  /** Starts what is not running (after a kill: on its data and ports); true if anything was started. */
  synchronized boolean startIfDead() {
    boolean started = false;
    try {
      if (redisProcess().isEmpty()) {
        Path redisDir = Files.createDirectories(dir.resolve("redis"));
        redis = EmbeddedStores.redisServer(redisDir, redisPort, durable);
        redis.start();
        started = true;
      }
      if (objects == null) {
        Path objectsDir = Files.createDirectories(dir.resolve(EmbeddedStores.OBJECTS_DIR));
        Files.copy(sharedCredentials, objectsDir.resolve(EmbeddedObjectStore.CREDENTIALS_FILE),
            StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
        objects = EmbeddedObjectStore.start(objectsDir, buckets, objectsPort);
        objectsPort = objects.port();
        started = true;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the Redis and object store of region " + region, e);
    }
    if (started) {
      LOG.info("region {}: its Redis on 127.0.0.1:{}, its object store on {} (buckets {}), data in {}", region,
          redisPort, objectsEndpoint(), buckets, dir);
    }
    return started;
  }

  /** The Redis server process, from its pid file, while alive. */
  Optional<ProcessHandle> redisProcess() {
    try {
      long pid = Long.parseLong(Files.readAllLines(EmbeddedStores.redisPidFile(dir.resolve("redis"))).get(0).strip());
      return ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    } catch (IOException | RuntimeException e) {
      return Optional.empty(); // no pid file or no such process: no server running
    }
  }

  /** Stops the object store (its port then refuses connections); the Redis process is the caller's to SIGKILL. */
  synchronized JsonArray stopObjects() {
    JsonArray stopped = new JsonArray();
    if (objects != null) {
      objects.close();
      objects = null;
      stopped.add(new JsonObject().put("role", "object-store").put("port", objectsPort));
    }
    return stopped;
  }

  synchronized JsonObject describe() {
    return new JsonObject().put("redis_pid", redisProcess().map(ProcessHandle::pid).orElse(null))
        .put("redis_port", redisPort).put("object_store", objects != null ? objectsEndpoint() : null)
        .put("object_store_port", objectsPort);
  }

  /** Stops both gently (Redis writes its snapshot). */
  @Override
  public synchronized void close() {
    stopObjects();
    if (redis != null && redisProcess().isPresent()) {
      try {
        redis.stop();
      } catch (IOException | RuntimeException e) {
        LOG.warn("region {}: its Redis did not stop cleanly: {}", region, e.toString());
      }
    }
    redis = null;
  }
}
