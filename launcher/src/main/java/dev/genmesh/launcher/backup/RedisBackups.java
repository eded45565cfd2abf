package dev.genmesh.launcher.backup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Copies of Redis's own files: its RDB snapshot (written every 5 minutes by {@code save 300 1},
 * always whole: Redis renames a finished snapshot into place) and its append-only file (fsynced on
 * every write). A copy taken while Redis appends may end in half a command, which Redis drops when
 * it loads the file ({@code aof-load-truncated yes}, its default). Restoring Redis is safe because
 * of I2: whatever the copy lacks or holds too much, the region rebuilds its queues from the request
 * log when it starts (docs/dr.md).
 */
public final class RedisBackups {
  /** The files a Redis 6.2 server keeps in its {@code dir}. */
  static final List<String> FILES = List.of("dump.rdb", "appendonly.aof");

  private final BackupFolder folder;

  public RedisBackups(BackupFolder folder) {
    this.folder = folder;
  }

  /** True when {@code redisDir} holds a snapshot or an append-only file. */
  public static boolean holdsData(Path redisDir) {
    return FILES.stream().anyMatch(name -> Files.isRegularFile(redisDir.resolve(name)));
  }

  /** When the newest of {@code redisDir}'s files was last written (the epoch when it holds none). */
  static Instant lastWritten(Path redisDir) {
    return FILES.stream().map(redisDir::resolve).filter(Files::isRegularFile).map(file -> {
      try {
        return Files.getLastModifiedTime(file).toInstant();
      } catch (IOException e) {
        return Instant.EPOCH;
      }
    }).max(Instant::compareTo).orElse(Instant.EPOCH);
  }

  /** Copies the Redis files found in {@code redisDir}; fails when there is none. */
  public RedisBackup take(Path redisDir) {
    Instant now = Instant.now();
    String id = BackupFolder.newId(now);
    Path target = folder.redisDir().resolve(id);
    try {
      Files.createDirectories(target);
      List<String> copied = new ArrayList<>();
      long bytes = 0;
      for (String name : FILES) {
        Path part = target.resolve(name + ".part");
        try {
          Files.copy(redisDir.resolve(name), part, StandardCopyOption.REPLACE_EXISTING);
        } catch (NoSuchFileException absent) {
          continue; // no snapshot yet, or no append-only file (not durable)
        }
        BackupFolder.fsync(part);
        Files.move(part, target.resolve(name), StandardCopyOption.ATOMIC_MOVE);
        copied.add(name);
        bytes += Files.size(target.resolve(name));
      }
      if (copied.isEmpty()) {
        throw new IllegalStateException("no " + String.join(" or ", FILES) + " in " + redisDir);
      }
      RedisBackup backup = new RedisBackup(id, now, List.copyOf(copied), bytes);
      BackupFolder.writeAtomically(target.resolve(BaseBackup.DESCRIPTION), backup.toJson());
      return backup;
    } catch (IOException | RuntimeException e) {
      try {
        BackupFolder.deleteTree(target);
      } catch (IOException ignored) {
        // without its backup.json nothing lists or restores it
      }
      throw new IllegalStateException("copy of Redis's files failed: " + e.getMessage(), e);
    }
  }

  /** Deletes the copies older than {@code keep} (the newest is always kept); returns their keys. */
  public List<String> retain(Duration keep, Instant now) {
    List<RedisBackup> backups = folder.redisBackups();
    List<String> deleted = new ArrayList<>();
    try {
      BackupFolder.deleteUnfinished(folder.redisDir());
      for (RedisBackup old : backups.subList(0, Math.max(0, backups.size() - 1))) {
        if (old.takenAt().isBefore(now.minus(keep))) {
          Path dir = folder.redisDir().resolve(old.id());
          old.files().forEach(name -> deleted.add(folder.key(dir.resolve(name))));
          deleted.add(folder.key(dir.resolve(BaseBackup.DESCRIPTION)));
          BackupFolder.deleteTree(dir);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return deleted;
  }

  /**
   * Puts the newest copy taken at or before {@code at} (empty: the newest) into {@code redisDir},
   * which must hold no Redis data: start Redis there afterwards.
   */
  public RedisBackup restore(java.util.Optional<Instant> at, Path redisDir) {
    List<RedisBackup> usable = folder.redisBackups().stream()
        .filter(b -> at.isEmpty() || !b.takenAt().isAfter(at.get())).toList();
    if (usable.isEmpty()) {
      throw new IllegalArgumentException("no copy of Redis in " + folder.dir() + at.map(t -> " taken before " + t).orElse(""));
    }
    RedisBackup backup = usable.get(usable.size() - 1);
    try {
      Files.createDirectories(redisDir);
      for (String name : FILES) {
        if (Files.exists(redisDir.resolve(name))) {
          throw new IllegalArgumentException(redisDir + " holds a " + name + " already: restore into a new folder");
        }
      }
      for (String name : backup.files()) {
        Files.copy(folder.redisDir().resolve(backup.id()).resolve(name), redisDir.resolve(name));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return backup;
  }
}
