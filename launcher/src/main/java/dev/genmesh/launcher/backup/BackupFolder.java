package dev.genmesh.launcher.backup;

import dev.genmesh.embedded.WalArchive;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The backups of one set (one PostgreSQL cluster and its Redis, named after their region) under
 * the backup directory, laid out as the copy in the object store is keyed:
 * <pre>
 * &lt;backup dir&gt;/&lt;set&gt;/postgres/wal/&lt;WAL file&gt;.gz        the WAL archive ({@link WalArchive})
 * &lt;backup dir&gt;/&lt;set&gt;/postgres/base/&lt;id&gt;/base.zip     a base backup, and its backup.json (written last)
 * &lt;backup dir&gt;/&lt;set&gt;/redis/&lt;id&gt;/dump.rdb, appendonly.aof, backup.json
 * </pre>
 */
public final class BackupFolder {
  static final String POSTGRES = "postgres";
  static final String BASE = "base";
  static final String REDIS = "redis";
  private static final DateTimeFormatter ID = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'").withZone(ZoneOffset.UTC);

  private final Path dir;
  private final String set;

  public BackupFolder(Path backupDir, String set) {
    if (!set.matches("[a-z0-9][a-z0-9-]*")) {
      throw new IllegalArgumentException("a backup set is named after its region (lowercase letters, digits, dashes): " + set);
    }
    this.dir = backupDir.toAbsolutePath().normalize().resolve(set);
    this.set = set;
  }

  public String set() {
    return set;
  }

  public Path dir() {
    return dir;
  }

  /** The WAL archive PostgreSQL writes into (created with its scripts if missing). */
  public WalArchive walArchive() {
    return WalArchive.at(dir.resolve(POSTGRES));
  }

  Path baseDir() {
    return dir.resolve(POSTGRES).resolve(BASE);
  }

  Path redisDir() {
    return dir.resolve(REDIS);
  }

  /** A new backup's id: its time, to the millisecond, sortable. */
  static String newId(Instant at) {
    return ID.format(at);
  }

  /** The complete base backups (those with a description), oldest first. */
  public List<BaseBackup> baseBackups() {
    return described(baseDir(), BaseBackup::fromJson).stream().sorted(Comparator.comparing(BaseBackup::id)).toList();
  }

  /** The complete Redis copies, oldest first. */
  public List<RedisBackup> redisBackups() {
    return described(redisDir(), RedisBackup::fromJson).stream().sorted(Comparator.comparing(RedisBackup::id)).toList();
  }

  private static <T> List<T> described(Path parent, Function<JsonObject, T> reader) {
    if (!Files.isDirectory(parent)) {
      return List.of();
    }
    List<T> out = new ArrayList<>();
    try (Stream<Path> children = Files.list(parent)) {
      for (Path child : children.toList()) {
        Path description = child.resolve(BaseBackup.DESCRIPTION);
        if (Files.isRegularFile(description)) {
          out.add(reader.apply(new JsonObject(Files.readString(description))));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** Writes {@code json} to {@code file} whole: a reader sees the old file or the new one, fsynced. */
  static void writeAtomically(Path file, JsonObject json) throws IOException {
    Path part = file.resolveSibling(file.getFileName() + ".part");
    Files.writeString(part, json.encodePrettily());
    fsync(part);
    Files.move(part, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    fsync(file.getParent());
  }

  static void fsync(Path path) throws IOException {
    if (Files.isDirectory(path)) {
      try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
        channel.force(true);
      } catch (IOException e) {
        // some file systems refuse to open a directory for fsync; the file itself was synced
      }
      return;
    }
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
  }

  /**
   * Deletes the backups under {@code parent} that have no description: cut short by a killed
   * process (nothing lists or restores them). Call it only from the thread that takes backups.
   */
  static void deleteUnfinished(Path parent) throws IOException {
    if (!Files.isDirectory(parent)) {
      return;
    }
    try (Stream<Path> children = Files.list(parent)) {
      for (Path child : children.toList()) {
        if (Files.isDirectory(child) && !Files.exists(child.resolve(BaseBackup.DESCRIPTION))) {
          deleteTree(child);
        }
      }
    }
  }

  /** Deletes a folder and everything in it (no error when it is gone). */
  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }

  /** The path of {@code file} relative to this set's folder, with '/' (the key of its copy). */
  String key(Path file) {
    return dir.relativize(file).toString().replace(java.io.File.separatorChar, '/');
  }
}
