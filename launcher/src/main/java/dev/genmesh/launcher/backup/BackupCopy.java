package dev.genmesh.launcher.backup;

import dev.genmesh.images.ImageStore;
import dev.genmesh.images.ObjectInfo;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.genmesh.embedded.WalArchive;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The copy of a backup set in another region's object store (bucket {@code dr.copy_bucket}, keys as
 * the set's folder is laid out), through the image store's S3 client, so that losing a region's
 * disks does not lose its backups. {@link #push} uploads what the store lacks (WAL first, a
 * backup's {@code backup.json} after its data, so a listed backup is whole) and applies retention to
 * the copy only by what this folder holds in full (a region rebuilt on an empty disk must not wipe
 * its copy). {@link #pull} brings a copy back into a folder for a restore.
 * Files travel whole in memory: fine for the embedded stores; large clusters belong to a dedicated
 * tool (docs/dr.md).
 */
public final class BackupCopy {
  private static final String OCTETS = "application/octet-stream";
  private static final Duration CALL = Duration.ofMinutes(5);

  private final ImageStore store;
  private final BackupFolder folder;

  public BackupCopy(ImageStore store, BackupFolder folder) {
    this.store = store;
    this.folder = folder;
  }

  /** What one push did. */
  public record Pushed(int uploaded, long bytes, int deleted) {}

  /**
   * Uploads the set's files the store lacks (or holds with another size), then applies retention to
   * the copy: once this folder holds {@code keepBase} base backups, the copy's older base backups and
   * the WAL before the oldest kept one go; copies of Redis older than {@code keepRedis} go too (the
   * newest always stays).
   */
  public Pushed push(int keepBase, Duration keepRedis, Instant now) {
    Map<String, Long> remote = await(store.list("")).stream().collect(Collectors.toMap(ObjectInfo::key, ObjectInfo::size));
    int uploaded = 0;
    long bytes = 0;
    for (Path file : localFiles()) {
      String key = folder.key(file);
      try {
        long size = Files.size(file);
        if (remote.get(key) != null && remote.get(key) == size) {
          continue;
        }
        await(store.put(key, Buffer.buffer(Files.readAllBytes(file)), OCTETS, null));
        uploaded++;
        bytes += size;
      } catch (java.nio.file.NoSuchFileException gone) {
        // retention removed it meanwhile
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    List<String> retired = retired(remote.keySet(), keepBase, keepRedis, now);
    if (!retired.isEmpty()) {
      await(store.delete(retired));
    }
    return new Pushed(uploaded, bytes, retired.size());
  }

  private List<String> retired(Collection<String> keys, int keepBase, Duration keepRedis, Instant now) {
    List<String> out = new ArrayList<>();
    List<BaseBackup> base = folder.baseBackups();
    if (base.size() >= keepBase) {
      String oldestId = base.get(0).id();
      String oldestWal = base.get(0).startWal().substring(8);
      String basePrefix = BackupFolder.POSTGRES + "/" + BackupFolder.BASE + "/";
      String walPrefix = BackupFolder.POSTGRES + "/" + WalArchive.WAL_DIR + "/";
      for (String key : keys) {
        if (key.startsWith(basePrefix) && key.substring(basePrefix.length()).compareTo(oldestId) < 0) {
          out.add(key);
        }
        String name = key.startsWith(walPrefix) ? key.substring(walPrefix.length()) : "";
        if (name.length() > 24 && name.substring(0, 24).matches("[0-9A-F]{24}") && name.substring(8, 24).compareTo(oldestWal) < 0) {
          out.add(key);
        }
      }
    }
    List<RedisBackup> redis = folder.redisBackups();
    if (!redis.isEmpty()) {
      String cutoff = BackupFolder.newId(now.minus(keepRedis));
      String newest = redis.get(redis.size() - 1).id();
      String prefix = BackupFolder.REDIS + "/";
      for (String key : keys) {
        if (key.startsWith(prefix)) {
          String id = key.substring(prefix.length()).split("/", 2)[0];
          if (id.compareTo(cutoff) < 0 && id.compareTo(newest) < 0) {
            out.add(key);
          }
        }
      }
    }
    return out;
  }

  /** The set's files, in upload order: WAL, then data files, then descriptions; no part files, scripts or lock. */
  private List<Path> localFiles() {
    if (!Files.isDirectory(folder.dir())) {
      return List.of();
    }
    try (Stream<Path> walk = Files.walk(folder.dir())) {
      Function<Path, Integer> rank = file -> {
        String key = folder.key(file);
        return key.startsWith(BackupFolder.POSTGRES + "/wal/") ? 0 : key.endsWith("/" + BaseBackup.DESCRIPTION) ? 2 : 1;
      };
      return walk.filter(Files::isRegularFile)
          .filter(file -> folder.key(file).startsWith(BackupFolder.POSTGRES + "/") || folder.key(file).startsWith(BackupFolder.REDIS + "/"))
          .filter(file -> !file.getFileName().toString().endsWith(".part") && !file.getFileName().toString().endsWith(".sh"))
          .sorted(Comparator.comparing(rank).thenComparing(Path::toString))
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Downloads every object of the copy this folder lacks into it (for a restore from the copy). */
  public int pull() {
    int downloaded = 0;
    List<ObjectInfo> objects = new ArrayList<>(await(store.list("")));
    // descriptions last: a backup appears here only once its data did
    objects.sort(Comparator.comparing((ObjectInfo o) -> o.key().endsWith("/" + BaseBackup.DESCRIPTION)).thenComparing(ObjectInfo::key));
    for (ObjectInfo object : objects) {
      Path file = folder.dir().resolve(object.key()).normalize();
      if (!file.startsWith(folder.dir())) {
        throw new IllegalStateException("object key outside the backup set: " + object.key());
      }
      try {
        if (Files.exists(file) && Files.size(file) == object.size()) {
          continue;
        }
        Files.createDirectories(file.getParent());
        Path part = file.resolveSibling(file.getFileName() + ".part");
        Files.write(part, await(store.get(object.key())).getBytes());
        Files.move(part, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        downloaded++;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    folder.walArchive(); // the scripts a restore runs are not copied: write them
    return downloaded;
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(CALL.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new IllegalStateException("object store: " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("object store: no answer within " + CALL, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
