package dev.genmesh.launcher.backup;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * A PostgreSQL data directory into one zip file and back. Files are read while the server runs
 * (a base backup between {@code pg_start_backup} and {@code pg_stop_backup}): a file that vanishes
 * meanwhile is left out and one that changes is taken as read, which WAL replay repairs. The
 * folders whose contents a base backup must not carry (PostgreSQL's documentation, "Making a Base
 * Backup Using the Low Level API") are kept, empty.
 */
final class ZipTree {
  /** Folders kept empty. */
  private static final Set<String> EMPTIED = Set.of("pg_wal", "pg_replslot", "pg_dynshmem", "pg_notify", "pg_serial",
      "pg_snapshots", "pg_stat_tmp", "pg_subtrans");
  /** Files of a running server, not of its data. */
  private static final Set<String> LEFT_OUT = Set.of("postmaster.pid", "postmaster.opts", "epg-lock", "backup_label",
      "tablespace_map", "recovery.signal", "standby.signal", "postgresql.auto.conf.tmp", PointInTimeRestore.LOG_FILE);

  private ZipTree() {}

  /** A zip written at full speed, for {@link #addTree} and {@link #addText}. */
  static ZipOutputStream open(OutputStream out) {
    ZipOutputStream zip = new ZipOutputStream(out);
    zip.setLevel(1);
    return zip;
  }

  /** Adds the data directory {@code source}, less what a base backup leaves out. */
  static void addTree(ZipOutputStream zip, Path source) throws IOException {
    try (Stream<Path> walk = Files.walk(source)) {
      for (Path path : walk.sorted(Comparator.naturalOrder()).toList()) {
        Path relative = source.relativize(path);
        if (relative.toString().isEmpty() || skipped(relative)) {
          continue;
        }
        String name = relative.toString().replace(java.io.File.separatorChar, '/');
        if (Files.isDirectory(path)) {
          zip.putNextEntry(new ZipEntry(name + "/"));
          zip.closeEntry();
          continue;
        }
        try (InputStream in = Files.newInputStream(path)) {
          zip.putNextEntry(new ZipEntry(name));
          in.transferTo(zip);
          zip.closeEntry();
        } catch (NoSuchFileException vanished) {
          // dropped meanwhile (a temporary relation, a removed segment): the WAL replays its fate
        }
      }
    }
  }

  static void addText(ZipOutputStream zip, String name, String text) throws IOException {
    zip.putNextEntry(new ZipEntry(name));
    zip.write(text.getBytes(StandardCharsets.UTF_8));
    zip.closeEntry();
  }

  private static boolean skipped(Path relative) {
    String first = relative.getName(0).toString();
    if (relative.getNameCount() == 1) {
      return LEFT_OUT.contains(first) || first.startsWith("pgsql_tmp");
    }
    return EMPTIED.contains(first) || relative.getFileName().toString().startsWith("pgsql_tmp");
  }

  /** Unzips {@code zipFile} into {@code target} (an empty or missing folder), with owner-only permissions. */
  static void unzip(Path zipFile, Path target) throws IOException {
    Files.createDirectories(target);
    Path root = target.toAbsolutePath().normalize();
    try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(zipFile))) {
      for (ZipEntry entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
        Path path = root.resolve(entry.getName()).normalize();
        if (!path.startsWith(root)) {
          throw new IOException("zip entry outside the target: " + entry.getName());
        }
        if (entry.isDirectory()) {
          Files.createDirectories(path);
        } else {
          Files.createDirectories(path.getParent());
          Files.copy(zip, path);
        }
      }
    }
    // PostgreSQL refuses a data directory others may read
    Files.setPosixFilePermissions(root, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
  }
}
