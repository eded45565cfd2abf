package dev.genmesh.launcher;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ImagesConfig;
import dev.genmesh.embedded.EmbeddedStores;
import dev.genmesh.embedded.WalArchive;
import dev.genmesh.launcher.backup.BackupCopy;
import dev.genmesh.launcher.backup.BackupFolder;
import dev.genmesh.launcher.backup.BaseBackup;
import dev.genmesh.launcher.backup.Backups;
import dev.genmesh.launcher.backup.LocalBackups;
import dev.genmesh.launcher.backup.PointInTimeRestore;
import dev.genmesh.launcher.backup.RedisBackup;
import dev.genmesh.launcher.backup.RedisBackups;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code genmesh backup [list]} and {@code genmesh restore}: backups of the PostgreSQL and Redis of
 * a data directory ({@code genmesh up}'s), and point-in-time restores of them (docs/dr.md).
 */
final class BackupCommands {
  private BackupCommands() {}

  /** A command over the backup sets: {@code --region}'s, else every region's. */
  abstract static class EachSet implements Runnable {
    @Mixin CommonOptions common;
    @Option(names = "--region", paramLabel = "R", description = "Only this region's set (default: every region's).")
    String region;

    @Override
    public void run() {
      GenmeshConfig config = common.loadConfig();
      for (String set : sets(config, region)) {
        each(config, folder(config, common.dataDir(), set));
      }
    }

    abstract void each(GenmeshConfig config, BackupFolder folder);
  }

  @Command(name = "backup", mixinStandardHelpOptions = true, subcommands = ListBackups.class,
      description = "Take a base backup of PostgreSQL and a copy of Redis's files now (the running `genmesh up` of"
          + " --data-dir); `backup list` shows what is kept.")
  static final class Backup extends EachSet {
    private final java.util.Set<Path> done = new java.util.HashSet<>();

    @Override
    void each(GenmeshConfig config, BackupFolder folder) {
      Path pgData = LocalBackups.postgresDir(common.dataDir(), folder.set());
      if (region == null && (!Files.exists(pgData.resolve("postmaster.pid")) || !done.add(pgData))) {
        System.out.println("region " + folder.set() + ": skipped (no PostgreSQL of its own runs on " + common.dataDir() + ")");
        return;
      }
      // up --region-processes: the region's own Redis (the shared pair does not run then), else the shared one
      Path ownRedis = dev.genmesh.launcher.regions.RegionProcesses.redisDir(common.dataDir(), folder.set());
      Backups.Source source = LocalBackups.ownRedisInUse(common.dataDir(), ownRedis)
          ? LocalBackups.source(common.dataDir(), folder.set(), Backups.runningPort(pgData), ownRedis)
          : LocalBackups.source(config, common.dataDir(), folder.set(), Backups.runningPort(pgData));
      Backups backups = new Backups(folder, config.dr(), source, Optional.empty(), Clock.systemUTC());
      Backups.Report report = backups.takeNow();
      System.out.println("base backup " + report.base().id() + " of " + folder.set() + " (" + report.base().bytes()
          + " bytes): restorable to any time from " + report.base().consistentAt());
      report.redis().ifPresent(r -> System.out.println("Redis: " + String.join(", ", r.files()) + " copied (" + r.id() + ")"));
      System.out.println(report.deleted() + " files past retention deleted; kept in " + folder.dir());
      System.out.println("the running `genmesh up` copies them to the other region's store within dr.copy_interval_ms");
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "The kept base backups, WAL and Redis copies.")
  static final class ListBackups extends EachSet {
    @Override
    void each(GenmeshConfig config, BackupFolder folder) {
      PrintStream out = System.out;
      out.println("backup set " + folder.set() + " in " + folder.dir());
      out.printf("%-22s %-30s %-12s %s%n", "BASE BACKUP", "RESTORABLE FROM", "START WAL", "BYTES");
      for (BaseBackup b : folder.baseBackups()) {
        out.printf("%-22s %-30s %-12s %d%n", b.id(), b.consistentAt(), b.startWal().substring(16), b.bytes());
      }
      List<Path> wal = files(folder.dir().resolve("postgres").resolve(WalArchive.WAL_DIR));
      Optional<Instant> newest = wal.stream().map(BackupCommands::modified).max(Instant::compareTo);
      out.println("WAL archive: " + wal.size() + " files, " + wal.stream().mapToLong(BackupCommands::size).sum()
          + " bytes, newest archived " + newest.map(Instant::toString).orElse("never"));
      folder.baseBackups().stream().findFirst().ifPresent(first -> out.println("point-in-time restores possible from "
          + first.consistentAt() + " to " + newest.map(Instant::toString).orElse(first.consistentAt().toString())));
      out.printf("%-22s %-30s %s%n", "REDIS COPY", "TAKEN", "FILES");
      for (RedisBackup r : folder.redisBackups()) {
        out.printf("%-22s %-30s %s%n", r.id(), r.takenAt(), String.join(", ", r.files()));
      }
      out.println("copy: " + Backups.copyBucket(config, folder.set())
          .map(b -> "bucket " + b.bucket() + " on the store of " + b.region()).orElse("none (dr.copy_to)"));
    }
  }

  @Command(name = "restore", mixinStandardHelpOptions = true,
      description = "Build a PostgreSQL data directory as it was at a time (newest base backup before it + the"
          + " archived WAL), start PostgreSQL on it and check it reached the time.")
  static final class Restore implements Runnable {
    @Mixin CommonOptions common;
    @Spec CommandLine.Model.CommandSpec spec;
    @Option(names = "--to", required = true, paramLabel = "TIME",
        description = "ISO-8601 time with its offset (2026-12-07T10:15:00Z), or `latest` (as far as the archive goes).")
    String to;
    @Option(names = "--into", required = true, paramLabel = "DIR", description = "A new, empty folder for the data directory.")
    Path into;
    @Option(names = "--region", paramLabel = "R", description = "The region whose PostgreSQL is restored (default: the"
        + " first region, whose set also holds the shared Redis's copies; with up --region-processes each region's set"
        + " holds its own Redis's).")
    String region;
    @Option(names = "--from-copy", description = "Fetch the backups from the other region's object store first.")
    boolean fromCopy;
    @Option(names = "--store-endpoint", paramLabel = "URL", description = "The copy's store, when not images.endpoint.")
    String storeEndpoint;
    @Option(names = "--redis-into", paramLabel = "DIR", description = "Also put the newest Redis copy before TIME here.")
    Path redisInto;
    @Option(names = "--keep-running", description = "Leave PostgreSQL running on the restored folder (Ctrl-C stops it).")
    boolean keepRunning;
    @Option(names = "--timeout", defaultValue = "PT10M", paramLabel = "DURATION", description = "How long recovery may take (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public void run() {
      Optional<Instant> target = parseTarget();
      GenmeshConfig config = common.loadConfig();
      BackupFolder folder = folder(config, common.dataDir(), sets(config, region).get(0));
      if (fromCopy) {
        pull(config, folder);
      }
      if (redisInto != null) {
        RedisBackup redis = new RedisBackups(folder).restore(target, redisInto.toAbsolutePath());
        System.out.println("Redis copy " + redis.id() + " (" + String.join(", ", redis.files()) + ") put in " + redisInto
            + ": start Redis there; the regions rebuild their queues from the restored log when they start");
      }
      PointInTimeRestore.Running running = new PointInTimeRestore(folder).restore(target, into.toAbsolutePath(),
          EmbeddedStores.freePort(), timeout);
      PointInTimeRestore.Result result = running.result();
      System.out.println("restored " + folder.set() + " from base backup " + result.from().id() + " into " + result.dataDir()
          + " in " + result.took().toMillis() + " ms");
      System.out.println("recovery stopped at " + target.map(Instant::toString).orElse("the end of the archive")
          + "; last replayed commit " + result.lastReplayedCommit().map(Instant::toString).orElse("none after the backup"));
      System.out.println("databases: " + String.join(", ", result.databases()));
      if (keepRunning) {
        System.out.println("PostgreSQL runs on 127.0.0.1:" + running.port() + " (user postgres); Ctrl-C stops it");
        Runtime.getRuntime().addShutdownHook(new Thread(running::close));
        sleepForever();
      }
      running.close();
      System.out.println("stopped; to serve from it, stop `genmesh up`, move " + result.dataDir() + " to "
          + LocalBackups.postgresDir(common.dataDir(), folder.set()) + " and start `genmesh up` again (docs/dr.md)");
    }

    private Optional<Instant> parseTarget() {
      if (to.equals("latest")) {
        return Optional.empty();
      }
      try {
        return Optional.of(OffsetDateTime.parse(to).toInstant());
      } catch (DateTimeParseException e) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "--to: expected an ISO-8601 time with offset (2026-12-07T10:15:00Z) or `latest`, got '" + to + "'");
      }
    }

    private void pull(GenmeshConfig config, BackupFolder folder) {
      ImagesConfig.Bucket bucket = Backups.copyBucket(config, folder.set()).orElseThrow(() ->
          new IllegalStateException("no region holds a copy of " + folder.set() + " (dr.copy_to)"));
      if (storeEndpoint != null) {
        bucket = new ImagesConfig.Bucket(bucket.region(), storeEndpoint, bucket.signingRegion(), bucket.pathStyle(),
            bucket.bucket(), bucket.credentialsFile(), bucket.keys(), bucket.callTimeoutMs());
      }
      Vertx vertx = Vertx.vertx();
      try {
        BackupCopy copy = Backups.copyTo(vertx, bucket, folder);
        System.out.println(copy.pull() + " files fetched from bucket " + bucket.bucket() + " into " + folder.dir());
      } finally {
        vertx.close();
      }
    }
  }

  /** The sets a command works on: {@code region}'s, else every region's. */
  private static List<String> sets(GenmeshConfig config, String region) {
    if (region != null && !config.regions().containsKey(region)) {
      throw new IllegalArgumentException("--region: no region " + region + " in the config " + config.regions().keySet());
    }
    return region != null ? List.of(region) : List.copyOf(config.regions().keySet());
  }

  private static BackupFolder folder(GenmeshConfig config, Path dataDir, String set) {
    return LocalBackups.folder(config, dataDir, set);
  }

  private static List<Path> files(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> list = Files.list(dir)) {
      return list.filter(p -> p.getFileName().toString().endsWith(".gz")).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Instant modified(Path file) {
    try {
      return Files.getLastModifiedTime(file).toInstant();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void sleepForever() {
    try {
      Thread.currentThread().join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
