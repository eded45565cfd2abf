package dev.genmesh.launcher.backup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.DrConfig;
import dev.genmesh.config.ImagesConfig;
import dev.genmesh.embedded.EmbeddedObjectStore;
import dev.genmesh.embedded.EmbeddedStores;
import dev.genmesh.embedded.WalArchive;
import io.vertx.core.Vertx;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backups go to another region's object store and come back from it: three scheduled backups with
 * a retention of two leave two base backups and the WAL from the older one on, here and in the
 * copy; then the region's disk is "lost" (a new, empty backup folder), the copy is fetched, and the
 * restore holds every request committed before the last copy.
 */
class BackupCopyTest {
  private static final String DATABASE = "genmesh_copy";
  private static final String BUCKET = "genmesh-drill-backups";
  @TempDir Path dir;

  @Test
  void retentionAppliesToTheCopyAndARestoreFromTheCopyAloneHoldsEverything() throws Exception {
    BackupFolder folder = new BackupFolder(dir.resolve("backups"), "drill");
    DrConfig dr = new DrConfig(86_400_000, 2, 60_000, 300_000);
    Path pgData = Files.createDirectories(dir.resolve("live"));
    Vertx vertx = Vertx.vertx();
    int written = 0;
    try (EmbeddedObjectStore store = EmbeddedObjectStore.start(dir.resolve("s3"), List.of(BUCKET));
        EmbeddedPostgres live = EmbeddedStores.startPostgres(pgData, EmbeddedStores.freePort(), false, null,
            folder.walArchive().serverSettings(Duration.ofSeconds(60)))) {
      ImagesConfig.Bucket bucket = new ImagesConfig.Bucket("peer", store.endpoint(), "us-east-1", true, BUCKET,
          store.credentialsFile().toString(), null, 120_000);
      Backups backups = new Backups(folder, dr, new Backups.Source(pgData, live.getPort(), List.of()),
          Optional.of(Backups.copyTo(vertx, bucket, folder)), Clock.systemUTC());
      EmbeddedStores.createDatabases(live, List.of(DATABASE));
      try (RequestLogWriter writer = new RequestLogWriter(live.getPort(), DATABASE)) {
        for (int round = 0; round < 3; round++) {
          written += writer.submit(5).size();
          Backups.Report report = backups.takeNow();
          assertThat(report.copied()).hasValueSatisfying(c -> assertThat(c.uploaded()).isPositive());
        }
        written += writer.submit(7).size();
      }
      BaseBackups.archiveCurrentWal(live.getPort(), Duration.ofSeconds(30));
      backups.copyNow();

      List<BaseBackup> kept = folder.baseBackups();
      assertThat(kept).hasSize(2);
      dev.genmesh.images.ImageStore peer = dev.genmesh.images.ImageStores.s3(vertx, bucket);
      Set<String> remote = Set.copyOf(await(peer.list("")).stream().map(o -> o.key()).toList());
      await(peer.close());
      assertThat(remote.stream().filter(k -> k.startsWith("postgres/base/")).map(k -> k.split("/")[2]).collect(Collectors.toSet()))
          .as("the copy holds the kept base backups only").containsExactlyInAnyOrderElementsOf(kept.stream().map(BaseBackup::id).toList());
      Set<String> localWal = walKeys(folder);
      assertThat(remote.stream().filter(k -> k.startsWith("postgres/wal/")).collect(Collectors.toSet()))
          .as("the copy holds the same WAL as the folder").isEqualTo(localWal);
      assertThat(localWal).allSatisfy(key -> assertThat(key.substring(13 + 8, 13 + 24))
          .isGreaterThanOrEqualTo(kept.get(0).startWal().substring(8)));

      BackupFolder rebuilt = new BackupFolder(dir.resolve("new-disk"), "drill");
      assertThat(Backups.copyTo(vertx, bucket, rebuilt).pull()).isPositive();
      assertThat(rebuilt.baseBackups()).isEqualTo(kept);
      try (PointInTimeRestore.Running restored = new PointInTimeRestore(rebuilt).restore(Optional.empty(),
          dir.resolve("restored"), EmbeddedStores.freePort(), Duration.ofSeconds(60));
          Connection connection = restored.connect(DATABASE); Statement statement = connection.createStatement();
          ResultSet count = statement.executeQuery("SELECT count(*) FROM requests")) {
        count.next();
        assertThat(count.getInt(1)).isEqualTo(written);
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
  }

  private static Set<String> walKeys(BackupFolder folder) throws Exception {
    try (Stream<Path> files = Files.list(folder.dir().resolve("postgres").resolve(WalArchive.WAL_DIR))) {
      return files.map(folder::key).collect(Collectors.toSet());
    }
  }

  private static <T> T await(io.vertx.core.Future<T> future) {
    return dev.genmesh.testkit.Waits.await(future);
  }
}
