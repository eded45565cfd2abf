package dev.genmesh.launcher.backup;

import dev.genmesh.config.DrConfig;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ImagesConfig;
import dev.genmesh.images.ImageStores;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One backup set at work: the PostgreSQL cluster and Redis of a region, whose files this process
 * can read, backed up into their {@link BackupFolder} by the {@code dr} settings, and copied to
 * another region's object store when one holds the copy.
 */
public final class Backups {
  static final String LOCK_FILE = "backup.lock";
  /**
   * Where the set's stores keep their data.
   *
   * @param redisDirs the {@code dir} of each Redis holding the set's queues (a master and its
   *     replicas); the one whose files changed last is copied, so a Sentinel failover moves the
   *     copy to the promoted replica. Empty: Redis is not backed up here
   */
  public record Source(Path postgresDataDir, int postgresPort, List<Path> redisDirs) {
    public Source {
      redisDirs = List.copyOf(redisDirs);
    }

    /** The Redis folder with the most recently written files, if any holds data. */
    Optional<Path> freshestRedisDir() {
      return redisDirs.stream().filter(RedisBackups::holdsData)
          .max(java.util.Comparator.comparing(RedisBackups::lastWritten));
    }
  }

  /** What one backup did. */
  public record Report(BaseBackup base, Optional<RedisBackup> redis, int deleted, Optional<BackupCopy.Pushed> copied) {}

  private final BackupFolder folder;
  private final DrConfig dr;
  private final Source source;
  private final Optional<BackupCopy> copy;
  private final Clock clock;

  public Backups(BackupFolder folder, DrConfig dr, Source source, Optional<BackupCopy> copy, Clock clock) {
    this.folder = folder;
    this.dr = dr;
    this.source = source;
    this.copy = copy;
    this.clock = clock;
  }

  /** The backup directory: {@code dr.backup_dir}, else {@code <data dir>/backups}. */
  public static Path backupDir(DrConfig dr, Path dataDir) {
    return dr.backupDir().isBlank() ? dataDir.resolve("backups") : Path.of(dr.backupDir()).toAbsolutePath();
  }

  /**
   * The bucket of {@code set}'s copy on the store of the region that holds it ({@code dr.copy_to}),
   * signed with the images' credentials; empty when no region holds one.
   */
  public static Optional<ImagesConfig.Bucket> copyBucket(GenmeshConfig config, String set) {
    return config.dr().copyHolder(set, List.copyOf(config.regions().keySet())).map(holder -> {
      ImagesConfig.Bucket store = config.images().forRegion(holder);
      return new ImagesConfig.Bucket(holder, store.endpoint(), store.signingRegion(), store.pathStyle(),
          config.dr().copyBucketOf(set), store.credentialsFile(), store.keys(), Math.max(store.callTimeoutMs(), 120_000));
    });
  }

  /** The copy of {@code folder} in {@code bucket}, through the image store's S3 client on {@code vertx}. */
  public static BackupCopy copyTo(Vertx vertx, ImagesConfig.Bucket bucket, BackupFolder folder) {
    return new BackupCopy(ImageStores.s3(vertx, bucket), folder);
  }

  public BackupFolder folder() {
    return folder;
  }

  /**
   * A base backup of PostgreSQL, a copy of Redis's files, retention here, then the copy to the
   * other region's store (a failed copy fails the call; the local backup stays).
   */
  public Report takeNow() {
    BaseBackup base;
    Optional<RedisBackup> redis;
    int deleted;
    // one backup of a set at a time, across processes (`genmesh backup` beside up's schedule): the
    // retention of one must not take the other's unfinished folder for a leftover
    try (FileChannel channel = FileChannel.open(Files.createDirectories(folder.dir()).resolve(LOCK_FILE),
        StandardOpenOption.CREATE, StandardOpenOption.WRITE); FileLock lock = channel.lock()) {
      base = new BaseBackups(folder).take(source.postgresDataDir(), source.postgresPort());
      // a Redis that keeps nothing on disk (no snapshot yet, not durable) has nothing to copy: the log rebuilds it anyway
      redis = source.freshestRedisDir().map(dir -> new RedisBackups(folder).take(dir));
      deleted = new BaseBackups(folder).retain(dr.backupRetention()).size()
          + new RedisBackups(folder).retain(Duration.ofMillis(dr.redisRetentionMs()), clock.instant()).size();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot lock the backups of " + folder.set() + ": " + e.getMessage(), e);
    }
    return new Report(base, redis, deleted, copyNow());
  }

  /** Copies what the other region's store lacks (WAL above all) and applies retention there. */
  public Optional<BackupCopy.Pushed> copyNow() {
    return copy.map(c -> c.push(dr.backupRetention(), Duration.ofMillis(dr.redisRetentionMs()), clock.instant()));
  }

  /** True when the set has no base backup yet (a restore could not start anywhere). */
  public boolean hasNoBaseBackup() {
    return folder.baseBackups().isEmpty();
  }

  /**
   * The port of the PostgreSQL server running on {@code dataDir}, from its {@code postmaster.pid}
   * (its fourth line); fails when none runs there.
   */
  public static int runningPort(Path dataDir) {
    Path pid = dataDir.resolve("postmaster.pid");
    try {
      List<String> lines = Files.readAllLines(pid);
      long process = Long.parseLong(lines.get(0).trim());
      if (ProcessHandle.of(process).filter(ProcessHandle::isAlive).isEmpty()) {
        throw new IllegalStateException("the PostgreSQL of " + dataDir + " is not running (stale " + pid + ")");
      }
      return Integer.parseInt(lines.get(3).trim());
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IllegalStateException("no PostgreSQL runs on " + dataDir + " (start `genmesh up` first)");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
