package dev.genmesh.launcher.backup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipOutputStream;

/**
 * Base backups of a PostgreSQL cluster whose data directory this process can read, taken through
 * SQL and a file copy (the embedded bundle has no {@code pg_basebackup}): a non-exclusive
 * {@code pg_start_backup}, a zip of the data directory, {@code pg_stop_backup} (which waits until the
 * WAL the backup needs is archived) and its label written into the zip. PostgreSQL 14's names;
 * 15 and later call them {@code pg_backup_start} and {@code pg_backup_stop}.
 */
public final class BaseBackups {
  private static final Pattern START_WAL = Pattern.compile("START WAL LOCATION: \\S+ \\(file ([0-9A-F]{24})\\)");
  private static final int SEGMENT_NAME = 24;

  private final BackupFolder folder;

  public BaseBackups(BackupFolder folder) {
    this.folder = folder;
  }

  /**
   * Takes a base backup of the cluster in {@code dataDir} that listens on {@code port} (on
   * loopback, as the superuser {@code postgres}); the server must archive into this folder's
   * {@link dev.genmesh.embedded.WalArchive}.
   */
  public BaseBackup take(Path dataDir, int port) {
    Instant started = Instant.now();
    String id = BackupFolder.newId(started);
    Path target = folder.baseDir().resolve(id);
    try (Connection connection = connect(port)) {
      checkArchiving(connection);
      Files.createDirectories(target);
      try (PreparedStatement start = connection.prepareStatement("SELECT pg_start_backup(?, true, false)")) {
        start.setString(1, "genmesh " + folder.set() + " " + id);
        start.execute();
      }
      Path archive = target.resolve(BaseBackup.ARCHIVE);
      Path part = target.resolve(BaseBackup.ARCHIVE + ".part");
      String labelFile;
      String stopLsn;
      try (ZipOutputStream zip = ZipTree.open(Files.newOutputStream(part))) {
        ZipTree.addTree(zip, dataDir);
        try (Statement stop = connection.createStatement();
            ResultSet row = stop.executeQuery("SELECT lsn::text, labelfile, spcmapfile FROM pg_stop_backup(false, true)")) {
          row.next();
          stopLsn = row.getString(1);
          labelFile = row.getString(2);
          ZipTree.addText(zip, "backup_label", labelFile);
          String map = row.getString(3);
          if (map != null && !map.isEmpty()) {
            ZipTree.addText(zip, "tablespace_map", map);
          }
        }
      }
      Matcher wal = START_WAL.matcher(labelFile);
      if (!wal.find()) {
        throw new IllegalStateException("unexpected backup label: " + labelFile);
      }
      BackupFolder.fsync(part);
      Files.move(part, archive, StandardCopyOption.ATOMIC_MOVE);
      Instant consistent = now(connection);
      BaseBackup backup = new BaseBackup(id, started, consistent, wal.group(1), stopLsn, Files.size(archive));
      BackupFolder.writeAtomically(target.resolve(BaseBackup.DESCRIPTION), backup.toJson());
      return backup;
    } catch (SQLException | IOException | RuntimeException e) {
      try {
        BackupFolder.deleteTree(target);
      } catch (IOException ignored) {
        // what is left has no backup.json, so nothing lists or restores it
      }
      throw new IllegalStateException("base backup of " + folder.set() + " failed: " + e.getMessage(), e);
    }
  }

  /**
   * Closes the current WAL segment ({@code pg_switch_wal}) and waits until the archive holds it, so
   * that everything committed before the call can be restored: what a planned restore, a drill or
   * a last backup before maintenance does. Returns the segment's name (the last one archived
   * already when nothing was written since the last switch).
   */
  public static String archiveCurrentWal(int port, java.time.Duration timeout) {
    try (Connection connection = connect(port); Statement statement = connection.createStatement()) {
      String segment;
      // the switch answers a position just past the closed segment; pg_walfile_name names that segment
      try (ResultSet row = statement.executeQuery("SELECT pg_walfile_name(pg_switch_wal())")) {
        row.next();
        segment = row.getString(1);
      }
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        try (ResultSet row = statement.executeQuery(
            "SELECT coalesce(last_archived_wal, ''), coalesce(last_failed_wal, '') FROM pg_stat_archiver")) {
          row.next();
          String archived = row.getString(1);
          if (archived.length() >= SEGMENT_NAME && archived.substring(0, SEGMENT_NAME).compareTo(segment) >= 0) {
            return segment;
          }
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("WAL segment " + segment + " not archived within " + timeout
                + " (last archived " + archived + ", last failed " + row.getString(2) + ")");
          }
        }
        Thread.sleep(50);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot switch the WAL: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the archive", e);
    }
  }

  private static void checkArchiving(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet row = statement.executeQuery("SELECT current_setting('archive_mode'), current_setting('archive_command')")) {
      row.next();
      if (!"on".equals(row.getString(1)) || row.getString(2).isBlank()) {
        throw new IllegalStateException("PostgreSQL does not archive its WAL (archive_mode " + row.getString(1)
            + "): a base backup alone could not be restored to a point in time");
      }
    }
  }

  private static Instant now(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet row = statement.executeQuery("SELECT clock_timestamp()")) {
      row.next();
      return row.getTimestamp(1).toInstant();
    }
  }

  static Connection connect(int port) throws SQLException {
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "postgres", "");
  }

  /**
   * Keeps the newest {@code keep} base backups and the archived WAL from the oldest of them on;
   * deletes the rest, and what a backup cut short (a killed process) left without its description. Returns what it deleted, as keys of the set's folder (for the copy).
   */
  public List<String> retain(int keep) {
    List<BaseBackup> backups = folder.baseBackups();
    List<String> deleted = new ArrayList<>();
    try {
      BackupFolder.deleteUnfinished(folder.baseDir());
      for (BaseBackup old : backups.subList(0, Math.max(0, backups.size() - keep))) {
        Path dir = folder.baseDir().resolve(old.id());
        deleted.add(folder.key(dir.resolve(BaseBackup.ARCHIVE)));
        deleted.add(folder.key(dir.resolve(BaseBackup.DESCRIPTION)));
        BackupFolder.deleteTree(dir);
      }
      List<BaseBackup> kept = folder.baseBackups();
      if (kept.isEmpty()) {
        return deleted;
      }
      String oldestNeeded = kept.get(0).startWal();
      Path walDir = folder.walArchive().walDir();
      try (Stream<Path> files = Files.list(walDir)) {
        for (Path file : files.toList()) {
          String name = file.getFileName().toString();
          if (isSegment(name) && position(name).compareTo(position(oldestNeeded)) < 0) {
            deleted.add(folder.key(file));
            Files.deleteIfExists(file);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return deleted;
  }

  /** A WAL segment or a backup history file (not a timeline history file, which is always kept). */
  private static boolean isSegment(String name) {
    return name.length() > SEGMENT_NAME && name.substring(0, SEGMENT_NAME).matches("[0-9A-F]{24}");
  }

  /** The segment's place in the WAL, whatever its timeline. */
  private static String position(String name) {
    return name.substring(8, SEGMENT_NAME);
  }
}
