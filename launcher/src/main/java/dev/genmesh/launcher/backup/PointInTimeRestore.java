package dev.genmesh.launcher.backup;

import dev.genmesh.embedded.EmbeddedStores;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Builds a PostgreSQL data directory as it was at a moment: the newest base backup consistent
 * before that moment, unzipped, with {@code recovery.signal} and the recovery settings
 * ({@code restore_command} reading the WAL archive, {@code recovery_target_time},
 * {@code recovery_target_action = promote}); then starts PostgreSQL on it, waits until recovery
 * ends and the server is promoted, and reads where the replay stopped. The restored server does
 * not archive and runs no logical replication workers while it is checked.
 */
public final class PointInTimeRestore {
  private static final DateTimeFormatter PG_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS'+00'").withZone(ZoneOffset.UTC);
  static final String LOG_FILE = "genmesh-restore.log";
  /**
   * The restored server is a check, not a member: it archives nothing (a second history in the
   * archive it reads) and runs no logical replication workers (a restored subscription would
   * connect to its live peer and consume the slot the live region's subscription uses).
   */
  private static final Map<String, String> CHECK_SETTINGS = Map.of("archive_mode", "off",
      "max_logical_replication_workers", "0");

  /**
   * What a restore did.
   *
   * @param lastReplayedCommit the commit time of the last transaction replayed; empty when the WAL
   *     after the backup held none
   * @param took from the start of the unzip to the promoted server
   */
  public record Result(Path dataDir, BaseBackup from, Optional<Instant> target, Optional<Instant> lastReplayedCommit,
      List<String> databases, Duration took) {}

  private final BackupFolder folder;

  public PointInTimeRestore(BackupFolder folder) {
    this.folder = folder;
  }

  /** The newest base backup a restore to {@code target} can start from (empty target: the newest). */
  public BaseBackup baseFor(Optional<Instant> target) {
    List<BaseBackup> usable = folder.baseBackups().stream()
        .filter(b -> target.isEmpty() || !b.consistentAt().isAfter(target.get())).toList();
    if (usable.isEmpty()) {
      throw new IllegalArgumentException(target.map(t -> "no base backup of " + folder.set() + " is consistent before " + t
          + " (the oldest kept: " + folder.baseBackups().stream().findFirst().map(b -> b.consistentAt().toString())
          .orElse("none") + ")").orElse("no base backup of " + folder.set() + " in " + folder.dir()));
    }
    return usable.get(usable.size() - 1);
  }

  /**
   * Restores into {@code into} (missing or empty) as of {@code target} (empty: as far as the archive
   * goes), and leaves PostgreSQL running there on {@code port}: the caller checks and closes it.
   *
   * @param recoveryTimeout how long recovery may take before the restore gives up
   */
  public Running restore(Optional<Instant> target, Path into, int port, Duration recoveryTimeout) {
    long startedNs = System.nanoTime();
    BaseBackup base = baseFor(target);
    try {
      if (Files.exists(into)) {
        try (var children = Files.list(into)) {
          if (children.findAny().isPresent()) {
            throw new IllegalArgumentException(into + " is not empty: restore into a new folder");
          }
        }
      }
      ZipTree.unzip(folder.baseDir().resolve(base.id()).resolve(BaseBackup.ARCHIVE), into);
      Files.createDirectories(into.resolve("pg_wal").resolve("archive_status"));
      StringBuilder settings = new StringBuilder("\n# genmesh restore of ").append(folder.set()).append(" from base backup ")
          .append(base.id()).append('\n')
          .append("restore_command = '").append(folder.walArchive().restoreCommand().replace("'", "''")).append("'\n")
          .append("recovery_target_action = 'promote'\n");
      target.ifPresent(t -> settings.append("recovery_target_time = '").append(PG_TIME.format(t)).append("'\n"));
      Files.writeString(into.resolve("postgresql.auto.conf"), settings, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      Files.createFile(into.resolve("recovery.signal"));
      EmbeddedPostgres postgres = EmbeddedStores.startPostgres(into, port, true,
          Files.createFile(into.resolve(LOG_FILE)), CHECK_SETTINGS);
      Running running = new Running(postgres, base, target);
      try {
        running.awaitPromoted(recoveryTimeout);
        return running.finished(Duration.ofNanos(System.nanoTime() - startedNs));
      } catch (RuntimeException e) {
        running.close();
        throw e;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("restore into " + into + " failed: " + e.getMessage()
          + " (PostgreSQL's own account: " + into.resolve(LOG_FILE) + ")", e);
    }
  }

  /** PostgreSQL running on a restored data directory. */
  public static final class Running implements AutoCloseable {
    private final EmbeddedPostgres postgres;
    private final BaseBackup base;
    private final Optional<Instant> target;
    private Result result;

    private Running(EmbeddedPostgres postgres, BaseBackup base, Optional<Instant> target) {
      this.postgres = postgres;
      this.base = base;
      this.target = target;
    }

    public int port() {
      return postgres.getPort();
    }

    public Result result() {
      return result;
    }

    public Connection connect(String database) throws SQLException {
      return postgres.getDatabase("postgres", database).getConnection();
    }

    private void awaitPromoted(Duration timeout) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        try (Connection connection = connect("postgres"); Statement statement = connection.createStatement();
            ResultSet row = statement.executeQuery("SELECT pg_is_in_recovery()")) {
          row.next();
          if (!row.getBoolean(1)) {
            return;
          }
        } catch (SQLException e) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("the restored server does not answer: " + e.getMessage(), e);
          }
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("recovery did not end within " + timeout);
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for recovery", e);
        }
      }
    }

    private Running finished(Duration took) {
      try (Connection connection = connect("postgres"); Statement statement = connection.createStatement()) {
        Optional<Instant> last;
        try (ResultSet row = statement.executeQuery("SELECT pg_last_xact_replay_timestamp()")) {
          row.next();
          Timestamp at = row.getTimestamp(1);
          last = Optional.ofNullable(at).map(Timestamp::toInstant);
        }
        List<String> databases = new java.util.ArrayList<>();
        try (ResultSet rows = statement.executeQuery(
            "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres' ORDER BY datname")) {
          while (rows.next()) {
            databases.add(rows.getString(1));
          }
        }
        if (target.isPresent() && last.isPresent() && last.get().isAfter(target.get())) {
          throw new IllegalStateException("recovery replayed a commit of " + last.get() + ", after the target " + target.get());
        }
        result = new Result(Path.of(postgresDataDir()), base, target, last, List.copyOf(databases), took);
        return this;
      } catch (SQLException e) {
        throw new IllegalStateException("cannot read the restored server: " + e.getMessage(), e);
      }
    }

    private String postgresDataDir() throws SQLException {
      try (Connection connection = connect("postgres"); Statement statement = connection.createStatement();
          ResultSet row = statement.executeQuery("SELECT current_setting('data_directory')")) {
        row.next();
        return row.getString(1);
      }
    }

    @Override
    public void close() {
      try {
        postgres.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
