package dev.genmesh.launcher.backup;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.embedded.EmbeddedRedisHa;
import dev.genmesh.embedded.EmbeddedStores;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The backups of {@code genmesh up}: each region's PostgreSQL server ({@code <data dir>/postgres-<region>})
 * is a set of its own, archived and backed up under {@code <data dir>/backups/<region>} and copied to
 * the next region's bucket on the embedded store. Redis is one server for every region, so its
 * files go with the first region's set; with {@code --region-processes} each region has a Redis of its own, which
 * goes with its own set, and the copies go to the next region's own store ({@link #startForOwnRedis}). A data
 * directory of the earlier layout (one shared {@code <data dir>/postgres}) is backed up as the first region's set.
 */
public final class LocalBackups {
  private LocalBackups() {}

  /** The first region's name: the set that also holds Redis's files. */
  public static String firstSet(GenmeshConfig config) {
    return config.regions().keySet().iterator().next();
  }

  /** {@code region}'s set folder under the data directory (or {@code dr.backup_dir}). */
  public static BackupFolder folder(GenmeshConfig config, Path dataDir, String region) {
    return new BackupFolder(Backups.backupDir(config.dr(), dataDir), region);
  }

  /** {@code region}'s PostgreSQL data directory: its own server's, else the shared one of the earlier layout. */
  public static Path postgresDir(Path dataDir, String region) {
    Path own = dataDir.resolve("postgres-" + region);
    return Files.exists(own.resolve("PG_VERSION")) || !Files.exists(dataDir.resolve("postgres").resolve("PG_VERSION"))
        ? own : dataDir.resolve("postgres");
  }

  /** {@code region}'s PostgreSQL settings that archive its WAL into its set's folder. */
  public static Map<String, String> postgresSettings(GenmeshConfig config, Path dataDir, String region) {
    return folder(config, dataDir, region).walArchive().serverSettings(Duration.ofMillis(config.dr().walSwitchMs()));
  }

  /** The folders of up's Redis and of its replica (EmbeddedRedisHa): after a failover the replica is the master. */
  public static List<Path> redisDirs(Path dataDir) {
    return List.of(dataDir.resolve("redis"), dataDir.resolve(EmbeddedRedisHa.REPLICA_DIR));
  }

  /** What {@code region}'s set backs up: its PostgreSQL, and Redis with the first region. */
  public static Backups.Source source(GenmeshConfig config, Path dataDir, String region, int postgresPort) {
    return new Backups.Source(postgresDir(dataDir, region), postgresPort,
        region.equals(firstSet(config)) ? redisDirs(dataDir) : List.of());
  }

  /**
   * What {@code region}'s set backs up when the region has a Redis of its own ({@code --region-processes}): its
   * PostgreSQL and the Redis working in {@code ownRedisDir}.
   */
  public static Backups.Source source(Path dataDir, String region, int postgresPort, Path ownRedisDir) {
    return new Backups.Source(postgresDir(dataDir, region), postgresPort, List.of(ownRedisDir));
  }

  /**
   * True when the Redis of a region's set is its own one in {@code ownRedisDir} ({@code --region-processes}): that
   * folder exists and up's shared Redis pair does not run on {@code dataDir} (that mode does not start it).
   */
  public static boolean ownRedisInUse(Path dataDir, Path ownRedisDir) {
    return Files.isDirectory(ownRedisDir) && redisDirs(dataDir).stream().noneMatch(LocalBackups::redisRuns);
  }

  private static boolean redisRuns(Path redisDir) {
    try {
      long pid = Long.parseLong(Files.readAllLines(EmbeddedStores.redisPidFile(redisDir)).get(0).strip());
      return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).isPresent();
    } catch (java.io.IOException | RuntimeException e) {
      return false; // no pid file, or no such process
    }
  }

  /** Starts one schedule per region over the running stores; creates the copies' buckets in the embedded store. */
  public static List<BackupSchedule> start(GenmeshConfig config, Path dataDir, EmbeddedStores stores, Vertx vertx,
      MeterRegistry meters) {
    return start(config, dataDir, stores, vertx, meters,
        region -> source(config, dataDir, region, stores.postgresPort(region)), stores.objectStore()::createBucket);
  }

  /**
   * As {@link #start}, for {@code up --region-processes}: each region's set holds its own Redis (in
   * {@code ownRedisDir.apply(region)}), and its copy goes to the bucket the holder region's own store already keeps
   * ({@code config} names that store's endpoint).
   */
  public static List<BackupSchedule> startForOwnRedis(GenmeshConfig config, Path dataDir, EmbeddedStores stores,
      java.util.function.Function<String, Path> ownRedisDir, Vertx vertx, MeterRegistry meters) {
    return start(config, dataDir, stores, vertx, meters,
        region -> source(dataDir, region, stores.postgresPort(region), ownRedisDir.apply(region)), bucket -> {});
  }

  private static List<BackupSchedule> start(GenmeshConfig config, Path dataDir, EmbeddedStores stores, Vertx vertx,
      MeterRegistry meters, java.util.function.Function<String, Backups.Source> sourceOf,
      java.util.function.Consumer<String> createBucket) {
    List<BackupSchedule> schedules = new ArrayList<>();
    for (String region : config.regions().keySet()) {
      BackupFolder folder = folder(config, dataDir, region);
      Optional<BackupCopy> copy = Backups.copyBucket(config, region).map(bucket -> {
        createBucket.accept(bucket.bucket());
        return Backups.copyTo(vertx, bucket, folder);
      });
      Backups backups = new Backups(folder, config.dr(), sourceOf.apply(region), copy, Clock.systemUTC());
      schedules.add(BackupSchedule.start(backups, Duration.ofMillis(config.dr().backupIntervalMs()),
          Duration.ofMillis(config.dr().copyIntervalMs()), meters));
    }
    return schedules;
  }
}
