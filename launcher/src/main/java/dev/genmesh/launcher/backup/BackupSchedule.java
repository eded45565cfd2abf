package dev.genmesh.launcher.backup;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a set's backups on the {@code dr} schedule, on a thread of its own (file copies and JDBC
 * block): a base backup (with Redis's files and retention) at once when the set has none, then every
 * {@code backup_interval_ms}; the copy to the other region every {@code copy_interval_ms}. A failure
 * is logged once and counted ({@code genmesh.backups{set, kind, outcome}}); the next run tries again.
 * {@code genmesh.backups.last_success{set, kind}} holds the epoch second of each kind's last success.
 */
public final class BackupSchedule implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BackupSchedule.class);

  private final Backups backups;
  private final MeterRegistry meters;
  private final ScheduledExecutorService thread;
  private final AtomicLong lastBase = new AtomicLong();
  private final AtomicLong lastCopy = new AtomicLong();

  private BackupSchedule(Backups backups, MeterRegistry meters) {
    this.backups = backups;
    this.meters = meters;
    this.thread = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread t = new Thread(runnable, "genmesh-backups-" + backups.folder().set());
      t.setDaemon(true);
      return t;
    });
    meters.gauge("genmesh.backups.last_success", Tags.of("set", backups.folder().set(), "kind", "base"), lastBase);
    meters.gauge("genmesh.backups.last_success", Tags.of("set", backups.folder().set(), "kind", "copy"), lastCopy);
  }

  /** Starts the schedule; {@code backupInterval} and {@code copyInterval} from {@code dr}. */
  public static BackupSchedule start(Backups backups, Duration backupInterval, Duration copyInterval, MeterRegistry meters) {
    BackupSchedule schedule = new BackupSchedule(backups, meters);
    long first = backups.hasNoBaseBackup() ? 0 : backupInterval.toMillis();
    schedule.thread.scheduleWithFixedDelay(schedule::backup, first, backupInterval.toMillis(), TimeUnit.MILLISECONDS);
    schedule.thread.scheduleWithFixedDelay(schedule::copy, copyInterval.toMillis(), copyInterval.toMillis(),
        TimeUnit.MILLISECONDS);
    return schedule;
  }

  private void backup() {
    try {
      Backups.Report report = backups.takeNow();
      lastBase.set(System.currentTimeMillis() / 1000);
      report.copied().ifPresent(c -> lastCopy.set(System.currentTimeMillis() / 1000));
      count("base", "ok");
      LOG.info("backup of {}: base backup {} ({} bytes){}, {} old files deleted{}", backups.folder().set(),
          report.base().id(), report.base().bytes(), report.redis().map(r -> ", Redis " + r.files()).orElse(""),
          report.deleted(), report.copied().map(c -> ", copied " + c.uploaded() + " files").orElse(""));
    } catch (RuntimeException e) {
      count("base", "failed");
      LOG.error("backup of {} failed (the next one is due in dr.backup_interval_ms): {}", backups.folder().set(),
          e.getMessage());
    }
  }

  private void copy() {
    try {
      if (backups.copyNow().isPresent()) {
        lastCopy.set(System.currentTimeMillis() / 1000);
        count("copy", "ok");
      }
    } catch (RuntimeException e) {
      count("copy", "failed");
      LOG.warn("copy of the backups of {} to the other region failed (tried again in dr.copy_interval_ms): {}",
          backups.folder().set(), e.getMessage());
    }
  }

  private void count(String kind, String outcome) {
    Counter.builder("genmesh.backups").tag("set", backups.folder().set()).tag("kind", kind).tag("outcome", outcome)
        .description("backup runs by kind (base: base backup with Redis and retention; copy: to the other region)")
        .register(meters).increment();
  }

  @Override
  public void close() {
    thread.shutdownNow();
    try {
      thread.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
