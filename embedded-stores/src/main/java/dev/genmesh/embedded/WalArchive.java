package dev.genmesh.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;

/**
 * A PostgreSQL cluster's WAL archive on local disk: the folder {@code wal/} of gzipped WAL files
 * and the two shell scripts PostgreSQL runs to fill it ({@code archive_command}) and to read it back
 * during a restore ({@code restore_command}). The archiver is PostgreSQL's own: it runs the command
 * once per completed segment, keeps the segment in {@code pg_wal} and retries until the command
 * succeeds, which a Java-side copier could only imitate by reading PostgreSQL's private
 * {@code archive_status} files (and the bundle has no {@code pg_receivewal}). The command writes
 * {@code NAME.gz.part}, fsyncs it and renames it, so the archive never holds half a file; a switched
 * segment is mostly zeros and gzips to a few kilobytes.
 */
public final class WalArchive {
  /** The folder of archived WAL files (each gzipped, {@code <name>.gz}). */
  public static final String WAL_DIR = "wal";
  static final String ARCHIVE_SCRIPT = "archive-wal.sh";
  static final String RESTORE_SCRIPT = "restore-wal.sh";

  private static final String ARCHIVE = """
      #!/bin/sh
      # genmesh: PostgreSQL's archive_command (docs/dr.md). Copies one completed WAL file into the
      # archive, gzipped and atomically: written as .part, fsynced, renamed. A file already archived
      # (copied before, but PostgreSQL did not learn it) counts as done when its content matches.
      src="$1"; name="$2"; dir="$(dirname "$0")/wal"
      if [ -f "$dir/$name.gz" ]; then
        gunzip -c "$dir/$name.gz" | cmp -s - "$src"
        exit $?
      fi
      gzip -1 -c "$src" > "$dir/$name.gz.part" && sync "$dir/$name.gz.part" \\
        && mv "$dir/$name.gz.part" "$dir/$name.gz" && sync "$dir"
      """;
  private static final String RESTORE = """
      #!/bin/sh
      # genmesh: PostgreSQL's restore_command (docs/dr.md). Puts one archived WAL file back where
      # recovery asks for it; fails (recovery goes on without it) when the archive does not hold it.
      name="$1"; dest="$2"; dir="$(dirname "$0")/wal"
      [ -f "$dir/$name.gz" ] || exit 1
      gunzip -c "$dir/$name.gz" > "$dest.part" && mv "$dest.part" "$dest"
      """;

  private final Path root;

  private WalArchive(Path root) {
    this.root = root;
  }

  /**
   * The archive in {@code root} (created with its scripts if missing). The path goes into shell
   * commands, so it may not hold quotes, backslashes, dollars or backquotes.
   */
  public static WalArchive at(Path root) {
    Path absolute = root.toAbsolutePath().normalize();
    if (!absolute.toString().matches("[^'\"\\\\$`\\n]+")) {
      throw new IllegalArgumentException("a WAL archive's path may not hold quotes, backslashes, '$' or '`' (it goes into"
          + " shell commands): " + absolute + "; choose another --data-dir or dr.backup_dir");
    }
    try {
      Files.createDirectories(absolute.resolve(WAL_DIR));
      writeScript(absolute.resolve(ARCHIVE_SCRIPT), ARCHIVE);
      writeScript(absolute.resolve(RESTORE_SCRIPT), RESTORE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new WalArchive(absolute);
  }

  private static void writeScript(Path file, String text) throws IOException {
    if (!Files.exists(file) || !Files.readString(file).equals(text)) {
      Path part = file.resolveSibling(file.getFileName() + ".part");
      Files.writeString(part, text);
      Files.setPosixFilePermissions(part, PosixFilePermissions.fromString("rwxr-x---"));
      Files.move(part, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
  }

  public Path root() {
    return root;
  }

  public Path walDir() {
    return root.resolve(WAL_DIR);
  }

  /**
   * The server settings that archive into this folder, for the command line (they are quoted for
   * the shell {@code pg_ctl} starts the server through).
   *
   * @param switchAfter {@code archive_timeout}: a partly filled segment is archived after this long
   */
  public Map<String, String> serverSettings(Duration switchAfter) {
    return Map.of(
        "archive_mode", "on",
        "archive_command", "'/bin/sh \"" + root.resolve(ARCHIVE_SCRIPT) + "\" %p %f'",
        "archive_timeout", Math.max(1, switchAfter.toSeconds()) + "s");
  }

  /** The {@code restore_command} that reads this archive, as a value for {@code postgresql.auto.conf}. */
  public String restoreCommand() {
    return "/bin/sh \"" + root.resolve(RESTORE_SCRIPT) + "\" %f \"%p\"";
  }
}
