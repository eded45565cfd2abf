package dev.genmesh.launcher.backup;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.embedded.EmbeddedStores;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The backups of {@code genmesh up}: its one PostgreSQL cluster (every region's database and the
 * user database) and its Redis form one set, named after the first region, archived and backed up
 * under {@code <data dir>/backups} and copied to the next region's bucket on the embedded store.
 * Once each region has a PostgreSQL of its own, each is a set of its own.
 */
public final class LocalBackups {
  private LocalBackups() {}

  /** The set's name: the first region's. */
  public static String set(GenmeshConfig config) {
    return config.regions().keySet().iterator().next();
  }

  /** The set's folder under the data directory (or {@code dr.backup_dir}). */
  public static BackupFolder folder(GenmeshConfig config, Path dataDir) {
    return new BackupFolder(Backups.backupDir(config.dr(), dataDir), set(config));
  }

  /** PostgreSQL's settings that archive its WAL into the set's folder. */
  public static Map<String, String> postgresSettings(GenmeshConfig config, Path dataDir) {
    return folder(config, dataDir).walArchive().serverSettings(Duration.ofMillis(config.dr().walSwitchMs()));
  }

  /** The folders of up's Redis and of its replica (EmbeddedRedisHa): after a failover the replica is the master. */
  public static java.util.List<Path> redisDirs(Path dataDir) {
    return java.util.List.of(dataDir.resolve("redis"), dataDir.resolve(dev.genmesh.embedded.EmbeddedRedisHa.REPLICA_DIR));
  }

  /** Starts the schedule over the running stores; creates the copy's bucket in the embedded store. */
  public static BackupSchedule start(GenmeshConfig config, Path dataDir, EmbeddedStores stores, Vertx vertx,
      MeterRegistry meters) {
    BackupFolder folder = folder(config, dataDir);
    Optional<BackupCopy> copy = Backups.copyBucket(config, folder.set()).map(bucket -> {
      stores.objectStore().createBucket(bucket.bucket());
      return Backups.copyTo(vertx, bucket, folder);
    });
    Backups backups = new Backups(folder, config.dr(),
        new Backups.Source(dataDir.resolve("postgres"), stores.postgresPort(), redisDirs(dataDir)), copy,
        Clock.systemUTC());
    return BackupSchedule.start(backups, Duration.ofMillis(config.dr().backupIntervalMs()),
        Duration.ofMillis(config.dr().copyIntervalMs()), meters);
  }
}
