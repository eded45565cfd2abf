package dev.genmesh.inference.registry;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which cached versions of a model may be deleted (inference-verticle/MODEL.md, "Registry",
 * "Cache cleanup"). A worker keeps the version it runs and the one it ran before (the rollback
 * target); everything else goes after a switch, unless another worker sharing the model
 * directory (all workers of {@code genmesh up}, each following its own region's registry) uses
 * it. Each worker says what it uses, or is about to pull and load, in a marker file
 * {@code <model root>/<name>/.in-use/<worker>} that it refreshes while it lives; a marker not
 * refreshed for {@link #FRESH_MS} belongs to a worker that died, and no longer counts.
 */
final class CacheRetention {
  private static final Logger LOG = LoggerFactory.getLogger(CacheRetention.class);
  static final String IN_USE = ".in-use";
  /** A marker older than this is a dead worker's. Live workers refresh theirs every {@link #REFRESH_MS}. */
  static final long FRESH_MS = 10 * 60_000L;
  static final long REFRESH_MS = 60_000L;
  /**
   * One lock per model directory for the workers of this JVM: marking a version and pruning
   * (reading the markers, then deleting) do not interleave. Workers in other processes have
   * only the markers (see MODEL.md for the window that leaves).
   */
  private static final Map<Path, Object> LOCKS = new ConcurrentHashMap<>();

  private final ModelCache cache;
  private final String workerId;
  private final String markerName;
  private final Map<String, String> configuredVersions;
  private final Clock clock;
  /** Model → the versions this worker's marker names. */
  private final Map<String, Set<String>> mine = new ConcurrentHashMap<>();

  /** @param configuredVersions model → its configured version, never deleted (see MODEL.md) */
  CacheRetention(ModelCache cache, String workerId, Map<String, String> configuredVersions, Clock clock) {
    this.cache = cache;
    this.workerId = workerId;
    this.markerName = workerId.replaceAll("[^A-Za-z0-9_-]", "_");
    this.configuredVersions = Map.copyOf(configuredVersions);
    this.clock = clock;
  }

  /** Marks a version this worker is about to verify, pull or load: no worker deletes it meanwhile. */
  void using(String name, String version) {
    synchronized (lock(name)) {
      Set<String> versions = new LinkedHashSet<>(mine.getOrDefault(name, Set.of()));
      if (versions.add(version)) {
        mine.put(name, Set.copyOf(versions));
        writeMarker(name);
      }
    }
  }

  /**
   * After a successful load or switch: this worker now needs only {@code running} and
   * {@code previous} (null: none). Deletes the model's other cached versions that no live
   * worker marks, except the configured one.
   *
   * @return the versions deleted
   */
  List<String> retain(String name, String running, String previous) {
    synchronized (lock(name)) {
      Set<String> needed = new LinkedHashSet<>();
      needed.add(running);
      if (previous != null) {
        needed.add(previous);
      }
      mine.put(name, Set.copyOf(needed));
      writeMarker(name);
      Set<String> keep = new LinkedHashSet<>(needed);
      keep.addAll(markedByLiveWorkers(name));
      String configured = configuredVersions.get(name);
      if (configured != null) {
        keep.add(configured);
      }
      List<String> deleted = new ArrayList<>();
      for (String version : cache.versions(name)) {
        if (keep.contains(version)) {
          continue;
        }
        try {
          cache.evict(name, version);
          deleted.add(version);
        } catch (IOException e) {
          LOG.warn("worker {}: could not delete the cached {} {}: {}", workerId, name, version, e.toString());
        }
      }
      if (!deleted.isEmpty()) {
        LOG.info("worker {}: deleted cached {} {} (keeps {})", workerId, name, deleted, keep);
      }
      return deleted;
    }
  }

  /** Keeps this worker's markers fresh; writes one again if a pruner took it for a dead worker's. */
  void refresh() {
    for (String name : mine.keySet()) {
      synchronized (lock(name)) {
        try {
          Files.setLastModifiedTime(markerFile(name), FileTime.fromMillis(clock.millis()));
        } catch (NoSuchFileException e) {
          writeMarker(name);
        } catch (IOException e) {
          LOG.debug("worker {}: could not refresh its marker for {}: {}", workerId, name, e.toString());
        }
      }
    }
  }

  /** The worker stops: its versions no longer count. */
  void release() {
    for (String name : mine.keySet()) {
      synchronized (lock(name)) {
        mine.remove(name);
        try {
          Files.deleteIfExists(markerFile(name));
        } catch (IOException e) {
          LOG.debug("worker {}: could not delete its marker for {}: {}", workerId, name, e.toString());
        }
      }
    }
  }

  /** Versions named by fresh markers (this worker's included); stale markers are deleted. */
  Set<String> markedByLiveWorkers(String name) {
    Path dir = cache.dir(name, IN_USE);
    Set<String> versions = new LinkedHashSet<>();
    if (!Files.isDirectory(dir)) {
      return versions;
    }
    try (Stream<Path> markers = Files.list(dir)) {
      for (Path marker : markers.filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
        try {
          if (clock.millis() - Files.getLastModifiedTime(marker).toMillis() > FRESH_MS) {
            Files.deleteIfExists(marker);
            continue;
          }
          Files.readAllLines(marker, StandardCharsets.UTF_8).stream().map(String::trim).filter(v -> !v.isEmpty())
              .forEach(versions::add);
        } catch (NoSuchFileException gone) {
          // its worker stopped meanwhile
        }
      }
    } catch (IOException e) {
      // Unknown users: keep every version rather than delete one that is in use.
      throw new IllegalStateException("cannot read the markers in " + dir + ": " + e, e);
    }
    return versions;
  }

  private void writeMarker(String name) {
    Path file = markerFile(name);
    try {
      Files.createDirectories(file.getParent());
      Path temp = file.resolveSibling(".tmp-" + UUID.randomUUID());
      Files.writeString(temp, String.join("\n", mine.getOrDefault(name, Set.of())) + "\n", StandardCharsets.UTF_8);
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      LOG.warn("worker {}: could not mark its versions of {} as in use: {}", workerId, name, e.toString());
    }
  }

  private Path markerFile(String name) {
    return cache.dir(name, IN_USE).resolve(markerName);
  }

  private Object lock(String name) {
    return LOCKS.computeIfAbsent(cache.dir(name, IN_USE), p -> new Object());
  }
}
