package dev.genmesh.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A physical standby of a running PostgreSQL server, made without {@code pg_basebackup} (zonky's
 * bundle has none): a replication slot that keeps the WAL from now on, a non-exclusive base backup
 * through SQL ({@code pg_start_backup}/{@code pg_stop_backup} on PostgreSQL 14) around a copy of
 * the data directory, and the {@code backup_label} that backup returns. The standby then streams
 * everything after the backup's start from the primary through that slot.
 */
final class StandbyClone {
  /** What a copy leaves out: the running server's own files and what the standby rebuilds or streams. */
  private static final Set<String> SKIPPED_FILES = Set.of("postmaster.pid", "postmaster.opts", "epg-lock",
      "standby.signal", "backup_label", "tablespace_map", "postgresql.auto.conf");
  private static final Set<String> EMPTIED_DIRS = Set.of("pg_wal", "pg_replslot", "pg_stat_tmp");

  private StandbyClone() {}

  /** Copies {@code primary} into {@code target} (which must not exist) as a standby that will use {@code slot}. */
  static void clone(EmbeddedPostgres primary, String slot, Path target) {
    try (Connection conn = primary.getPostgresDatabase().getConnection()) {
      conn.setAutoCommit(true);
      createSlot(conn, slot);
      try (Statement statement = conn.createStatement()) {
        statement.execute("SELECT pg_start_backup('genmesh users standby " + slot + "', true, false)");
      }
      Path source = dataDirOf(conn);
      copy(source, target);
      try (Statement statement = conn.createStatement();
          ResultSet stop = statement.executeQuery("SELECT labelfile, spcmapfile FROM pg_stop_backup(false, false)")) {
        stop.next();
        Files.writeString(target.resolve("backup_label"), stop.getString("labelfile"));
        String spcmap = stop.getString("spcmapfile");
        if (spcmap != null && !spcmap.isBlank()) {
          Files.writeString(target.resolve("tablespace_map"), spcmap);
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot take a base backup for the standby " + slot + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A physical slot reserving WAL at once (a no-op when it exists). */
  static void createSlot(Connection conn, String slot) throws SQLException {
    try (PreparedStatement statement = conn.prepareStatement("SELECT pg_create_physical_replication_slot(?, true)"
        + " WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)")) {
      statement.setString(1, slot);
      statement.setString(2, slot);
      statement.execute();
    }
  }

  private static Path dataDirOf(Connection conn) throws SQLException {
    try (Statement statement = conn.createStatement(); ResultSet rows = statement.executeQuery("SHOW data_directory")) {
      rows.next();
      return Path.of(rows.getString(1));
    }
  }

  /** The data directory, file by file: files that vanish meanwhile are skipped (the backup's WAL covers them). */
  private static void copy(Path source, Path target) throws IOException {
    List<Path> paths;
    try (var walk = Files.walk(source)) {
      paths = walk.collect(Collectors.toList());
    }
    for (Path from : paths) {
      Path relative = source.relativize(from);
      Path to = target.resolve(relative.toString());
      boolean inEmptied = relative.getNameCount() > 1 && EMPTIED_DIRS.contains(relative.getName(0).toString());
      if (inEmptied || (relative.getNameCount() == 1 && SKIPPED_FILES.contains(relative.toString()))) {
        continue;
      }
      try {
        if (Files.isDirectory(from)) {
          Files.createDirectories(to);
          // PostgreSQL refuses a data directory others may read.
          Files.setPosixFilePermissions(to, Files.getPosixFilePermissions(from));
        } else {
          Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
      } catch (NoSuchFileException gone) {
        // dropped while we copied: WAL replay from the backup's start re-creates or removes it
      }
    }
  }
}
