package dev.genmesh.launcher.backup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.DrConfig;
import dev.genmesh.config.ImagesConfig;
import dev.genmesh.embedded.EmbeddedObjectStore;
import dev.genmesh.embedded.EmbeddedStores;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A region lost while it writes: requests are committed one after the other while the schedule
 * archives (WAL switched every 2 s) and copies (every 2 s) to another store; then PostgreSQL is
 * SIGKILLed, the schedule stops, and everything of the region is gone but the copy. The restore from the copy holds a prefix of the committed requests,
 * with no gap: a consistent moment, losing only the last seconds. The seconds lost (the measured
 * region-loss RPO of docs/dr.md) are printed, not asserted: they depend on the machine's speed.
 */
class RegionLossRpoTest {
  private static final String DATABASE = "genmesh_rpo";
  private static final String BUCKET = "genmesh-rpo-backups";
  private static final long SWITCH_MS = 2_000;
  private static final long COPY_MS = 2_000;
  @TempDir Path dir;

  @Test
  void aRestoreFromTheCopyAloneHoldsAGaplessPrefixOfTheCommittedRequests() throws Exception {
    BackupFolder folder = new BackupFolder(dir.resolve("backups"), "rpo");
    DrConfig dr = new DrConfig(3_600_000, 2, 60_000, 300_000, "", SWITCH_MS, 604_800_000, "ring",
        "genmesh-{region}-backups", COPY_MS);
    Path pgData = Files.createDirectories(dir.resolve("live"));
    Vertx vertx = Vertx.vertx();
    List<String> committed = new ArrayList<>();
    List<Instant> committedAt = new ArrayList<>();
    Instant lost;
    try (EmbeddedObjectStore store = EmbeddedObjectStore.start(dir.resolve("s3"), List.of(BUCKET))) {
      ImagesConfig.Bucket bucket = new ImagesConfig.Bucket("peer", store.endpoint(), "us-east-1", true, BUCKET,
          store.credentialsFile().toString(), null, 120_000);
      try (EmbeddedPostgres live = EmbeddedStores.startPostgres(pgData, EmbeddedStores.freePort(), false, null,
          folder.walArchive().serverSettings(Duration.ofMillis(SWITCH_MS)))) {
        EmbeddedStores.createDatabases(live, List.of(DATABASE));
        Backups backups = new Backups(folder, dr, new Backups.Source(pgData, live.getPort(), List.of()),
            Optional.of(Backups.copyTo(vertx, bucket, folder)), Clock.systemUTC());
        try (RequestLogWriter writer = new RequestLogWriter(live.getPort(), DATABASE);
            BackupSchedule schedule = BackupSchedule.start(backups, Duration.ofHours(1), Duration.ofMillis(COPY_MS),
                new SimpleMeterRegistry())) {
          dev.genmesh.testkit.Waits.eventually(60, () -> !folder.baseBackups().isEmpty(), "the first base backup");
          long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
          while (System.nanoTime() < until) {
            committed.add(writer.submit(1).get(0));
            committedAt.add(Instant.now());
            Thread.sleep(20);
          }
          lost = Instant.now();
          // the region dies: PostgreSQL by SIGKILL (its archiver with it), the schedule with it (closed below)
          long postmaster = Long.parseLong(Files.readAllLines(pgData.resolve("postmaster.pid")).get(0).trim());
          ProcessHandle.of(postmaster).ifPresent(ProcessHandle::destroyForcibly);
        }
      }

      BackupFolder rebuilt = new BackupFolder(dir.resolve("new-disk"), "rpo");
      Backups.copyTo(vertx, bucket, rebuilt).pull();
      Set<String> restored = new HashSet<>();
      try (PointInTimeRestore.Running running = new PointInTimeRestore(rebuilt).restore(Optional.empty(),
          dir.resolve("restored"), EmbeddedStores.freePort(), Duration.ofSeconds(60));
          Connection connection = running.connect(DATABASE); Statement statement = connection.createStatement();
          ResultSet rows = statement.executeQuery("SELECT id FROM requests")) {
        while (rows.next()) {
          restored.add(rows.getString(1));
        }
      }
      int kept = 0;
      while (kept < committed.size() && restored.contains(committed.get(kept))) {
        kept++;
      }
      assertThat(restored).as("a prefix of the committed requests, without a gap").hasSize(kept);
      assertThat(kept).as("the copy holds the requests of all but the last seconds").isPositive();
      Instant lastKept = committedAt.get(kept - 1);
      System.out.printf("[drill] region lost after %d committed requests; the copy restored %d of them;"
          + " lost the last %d ms (WAL switch %d ms, copy every %d ms)%n", committed.size(), kept,
          Duration.between(lastKept, lost).toMillis(), SWITCH_MS, COPY_MS);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
  }
}
