package dev.genmesh.launcher.regions;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ImagesConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.embedded.EmbeddedObjectStore;
import dev.genmesh.embedded.EmbeddedStores;
import dev.genmesh.launcher.chaos.FaultPoints;
import dev.genmesh.launcher.chaos.Signals;
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
 * holding the region's bucket, the copies bucket it keeps for its ring predecessor and the bucket of the backup copies
 * it holds ({@code dr.copy_to}). Both keep their ports across a kill (the region's config names them); a kill SIGKILLs
 * the Redis server and stops the store, so what they hold is out of reach until the region is started again on their
 * data. They replace {@code up}'s shared Redis and object store, which this mode does not start. With {@code --chaos}
 * the region's clients reach its store through a fault proxy named {@code objects-<region>}.
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
    this.dir = redisDir(dataDir, region).getParent();
    this.durable = durable;
    this.buckets = buckets;
    this.sharedCredentials = sharedCredentials;
  }

  /**
   * Starts {@code region}'s stores. The store signs with the keys of {@code sharedCredentials} (the mesh's keys file,
   * {@code <data dir>/s3/credentials.properties}, copied in), so one {@code images.credentials_file} serves every
   * region's store.
   */
  static RegionStores start(String region, Path dataDir, boolean durable, GenmeshConfig config, Path sharedCredentials) {
    ImagesConfig images = config.images();
    List<String> names = List.copyOf(config.regions().keySet());
    List<String> buckets = new ArrayList<>(List.of(images.forRegion(region).bucket()));
    if (!images.copiesHeldFor(region, names).isEmpty()) {
      buckets.add(images.copiesOf(region).bucket());
    }
    names.stream().filter(set -> config.dr().copyHolder(set, names).filter(region::equals).isPresent())
        .forEach(set -> buckets.add(config.dr().copyBucketOf(set)));
    RegionStores stores = new RegionStores(region, dataDir, durable, List.copyOf(buckets), sharedCredentials);
    stores.startIfDead();
    return stores;
  }

  /**
   * {@code config} with {@code region}'s Redis (direct, no sentinel) and image endpoint pointed at these stores (the
   * latter through {@code faults}' proxy {@code objects-<region>} with {@code --chaos}).
   */
  GenmeshConfig applyTo(GenmeshConfig config, FaultPoints faults) {
    RegionConfig own = config.region(region);
    var regions = new java.util.LinkedHashMap<>(config.regions());
    regions.put(region, own.withStores(own.postgres(),
        new RegionConfig.RedisConfig("redis://127.0.0.1:" + redisPort, own.redis().keyPrefix())));
    return config.withRegions(regions).withImages(config.images().withRegionEndpoint(region,
        faults.routeUrl("objects-" + region, objectsEndpoint())));
  }

  private String objectsEndpoint() {
    return "http://127.0.0.1:" + objectsPort;
  }

  /** The folder its Redis server works in ({@code dir}: its snapshot and append-only file, its pid file). */
  static Path redisDir(Path dataDir, String region) {
    return dataDir.resolve("regions").resolve(region).resolve("redis");
  }

  /** Starts its Redis server again on its data and port when it is not running; true if it was started. */
  synchronized boolean startRedisIfDead() {
    if (redisProcess().isPresent()) {
      return false;
    }
    try {
      redis = EmbeddedStores.redisServer(Files.createDirectories(dir.resolve("redis")), redisPort, durable);
      redis.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the Redis of region " + region, e);
    }
    LOG.info("region {}: its Redis on 127.0.0.1:{}, data in {}", region, redisPort, dir.resolve("redis"));
    return true;
  }

  int redisPort() {
    return redisPort;
  }

  /** Starts what is not running (after a kill: on its data and ports); true if anything was started. */
  synchronized boolean startIfDead() {
    boolean redisStarted = startRedisIfDead();
    if (objects != null) {
      return redisStarted;
    }
    try {
      Path objectsDir = Files.createDirectories(dir.resolve(EmbeddedStores.OBJECTS_DIR));
      Files.copy(sharedCredentials, objectsDir.resolve(EmbeddedObjectStore.CREDENTIALS_FILE),
          StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
      objects = EmbeddedObjectStore.start(objectsDir, buckets, objectsPort);
      objectsPort = objects.port();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the object store of region " + region, e);
    }
    LOG.info("region {}: its object store on {} (buckets {}), data in {}", region, objectsEndpoint(), buckets,
        dir.resolve(EmbeddedStores.OBJECTS_DIR));
    return true;
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

  /** Stops both gently (Redis writes its snapshot; one a chaos experiment stopped is resumed first). */
  @Override
  public synchronized void close() {
    stopObjects();
    redisProcess().ifPresent(p -> {
      try {
        Signals.send(p.pid(), "CONT");
      } catch (RuntimeException gone) {
        LOG.debug("region {}: its Redis could not be resumed before stopping: {}", region, gone.toString());
      }
    });
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
