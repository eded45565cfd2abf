package dev.genmesh.launcher.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genmesh.embedded.EmbeddedStores;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The restore drill of docs/dr.md: requests are written into a region's database with the request
 * log's own code, a base backup is taken, more are written, a time is noted, more are written;
 * the restore to that time holds exactly the requests committed before it (row counts, the last
 * committed request, and none of the later ones), and PostgreSQL is promoted on it.
 */
class PointInTimeRestoreTest {
  private static final String DATABASE = "genmesh_drill";
  @TempDir Path dir;

  @Test
  void aRestoreToANotedTimeHoldsExactlyTheRequestsCommittedBeforeIt() throws Exception {
    BackupFolder folder = new BackupFolder(dir.resolve("backups"), "drill");
    EmbeddedPostgres live = EmbeddedStores.startPostgres(Files.createDirectories(dir.resolve("live")),
        EmbeddedStores.freePort(), false, null, folder.walArchive().serverSettings(Duration.ofSeconds(60)));
    List<String> beforeBackup;
    List<String> afterBackup;
    List<String> afterTarget;
    Instant target;
    try (live) {
      EmbeddedStores.createDatabases(live, List.of(DATABASE));
      try (RequestLogWriter writer = new RequestLogWriter(live.getPort(), DATABASE)) {
        beforeBackup = writer.submit(20);
        long backupStarted = System.nanoTime();
        BaseBackup base = new BaseBackups(folder).take(dir.resolve("live"), live.getPort());
        System.out.printf("[drill] base backup %s: %d bytes in %d ms%n", base.id(), base.bytes(),
            Duration.ofNanos(System.nanoTime() - backupStarted).toMillis());
        assertThat(folder.baseBackups()).containsExactly(base);
        afterBackup = writer.submit(15);
        target = clockOf(live);
        afterTarget = writer.submit(10);
      }
      BaseBackups.archiveCurrentWal(live.getPort(), Duration.ofSeconds(30));
    }
    List<String> expected = new ArrayList<>(beforeBackup);
    expected.addAll(afterBackup);

    PointInTimeRestore restore = new PointInTimeRestore(folder);
    try (PointInTimeRestore.Running restored = restore.restore(Optional.of(target), dir.resolve("restored"),
        EmbeddedStores.freePort(), Duration.ofSeconds(60))) {
      System.out.printf("[drill] restored to %s in %d ms (unzip, WAL replay, promotion); last replayed commit %s%n",
          target, restored.result().took().toMillis(), restored.result().lastReplayedCommit().orElse(null));
      assertThat(restored.result().databases()).contains(DATABASE);
      assertThat(restored.result().lastReplayedCommit()).hasValueSatisfying(at -> assertThat(at).isBeforeOrEqualTo(target));
      try (Connection connection = restored.connect(DATABASE); Statement statement = connection.createStatement()) {
        assertThat(column(statement, "SELECT id FROM requests ORDER BY id")).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(column(statement, "SELECT count(*) FROM request_events")).containsExactly(Integer.toString(expected.size()));
        assertThat(column(statement, "SELECT id FROM requests ORDER BY created_at DESC, id DESC LIMIT 1"))
            .as("the last request committed before the target").containsExactly(afterBackup.get(afterBackup.size() - 1));
        assertThat(column(statement, "SELECT id FROM requests")).doesNotContainAnyElementsOf(afterTarget);
        assertThat(column(statement, "SELECT pg_is_in_recovery()::text")).as("promoted").containsExactly("false");
        statement.execute("INSERT INTO request_events (request_id, seq, type, data, created_at)"
            + " SELECT id, 2, 'cancelled', '{}'::jsonb, now() FROM requests LIMIT 1"); // and it takes writes
      }
    }
  }

  @Test
  void aTimeBeforeTheOldestBackupOrAFolderInUseIsRefused() throws Exception {
    BackupFolder folder = new BackupFolder(dir.resolve("backups"), "drill");
    EmbeddedPostgres live = EmbeddedStores.startPostgres(Files.createDirectories(dir.resolve("live")),
        EmbeddedStores.freePort(), false, null, folder.walArchive().serverSettings(Duration.ofSeconds(60)));
    Instant beforeAnyBackup;
    try (live) {
      beforeAnyBackup = clockOf(live);
      new BaseBackups(folder).take(dir.resolve("live"), live.getPort());
    }
    PointInTimeRestore restore = new PointInTimeRestore(folder);
    assertThatThrownBy(() -> restore.restore(Optional.of(beforeAnyBackup), dir.resolve("a"), EmbeddedStores.freePort(),
        Duration.ofSeconds(30))).hasMessageContaining("no base backup of drill is consistent before");
    Files.writeString(Files.createDirectories(dir.resolve("busy")).resolve("something"), "x");
    assertThatThrownBy(() -> restore.restore(Optional.empty(), dir.resolve("busy"), EmbeddedStores.freePort(),
        Duration.ofSeconds(30))).hasMessageContaining("is not empty");
  }

  private static Instant clockOf(EmbeddedPostgres postgres) throws SQLException {
    try (Connection connection = postgres.getPostgresDatabase().getConnection();
        Statement statement = connection.createStatement();
        ResultSet row = statement.executeQuery("SELECT clock_timestamp()")) {
      row.next();
      return row.getTimestamp(1).toInstant();
    }
  }

  private static List<String> column(Statement statement, String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (ResultSet rows = statement.executeQuery(sql)) {
      while (rows.next()) {
        out.add(rows.getString(1));
      }
    }
    return out;
  }
}
