package dev.genmesh.embedded;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops the embedded PostgreSQL and Redis that an earlier run of the same data directory left
 * behind. They are separate processes, so a {@code kill -9} of the JVM leaves them running,
 * holding {@code postmaster.pid} (PostgreSQL then refuses the directory) and the Redis
 * append-only file. Each is found through its pid file and stopped only if it is alive, is
 * the right program, and works in this data directory.
 */
public final class StaleStoreProcesses {
  private static final Logger LOG = LoggerFactory.getLogger(StaleStoreProcesses.class);
  static final Duration GRACE = Duration.ofSeconds(20);
  static final Duration KILL_WAIT = Duration.ofSeconds(10);

  private StaleStoreProcesses() {}

  /**
   * Stops the leftovers of {@code <dataDir>/postgres}, {@code <dataDir>/postgres-<region>},
   * {@code <dataDir>/redis} and the Redis replica and sentinel beside it ({@link EmbeddedRedisHa}), and each
   * region's own Redis of {@code genmesh up --region-processes} ({@code <dataDir>/regions/<region>/redis});
   * returns what was stopped.
   */
  public static List<String> stop(Path dataDir) {
    List<String> stopped = new ArrayList<>();
    Path pgDir = dataDir.resolve("postgres");
    Path redisDir = dataDir.resolve("redis");
    // Redis first: nothing depends on it, and PostgreSQL then has the machine to itself for its shutdown checkpoint.
    for (String ha : List.of(EmbeddedRedisHa.SENTINEL_DIR, EmbeddedRedisHa.REPLICA_DIR)) {
      Path dir = dataDir.resolve(ha);
      stopOne("Redis (" + ha + ")", "redis-server", dir, EmbeddedStores.redisPidFile(dir)).ifPresent(stopped::add);
    }
    stopOne("Redis", "redis-server", redisDir, EmbeddedStores.redisPidFile(redisDir)).ifPresent(stopped::add);
    try (var dirs = Files.list(dataDir.resolve("regions"))) {
      for (Path own : dirs.map(d -> d.resolve("redis")).filter(Files::isDirectory).toList()) {
        stopOne("Redis (" + own.getParent().getFileName() + ")", "redis-server", own, EmbeddedStores.redisPidFile(own))
            .ifPresent(stopped::add);
      }
    } catch (java.nio.file.NoSuchFileException e) {
      // never run with --region-processes
    } catch (IOException e) {
      LOG.debug("cannot list {}: {}", dataDir.resolve("regions"), e.toString());
    }
    stopOne("PostgreSQL", "postgres", pgDir, pgDir.resolve("postmaster.pid")).ifPresent(stopped::add);
    // One server per region (EmbeddedStores.startRegional): <dataDir>/postgres-<region>.
    try (var dirs = java.nio.file.Files.list(dataDir)) {
      for (Path regional : dirs.filter(d -> d.getFileName().toString().startsWith("postgres-")).toList()) {
        stopOne("PostgreSQL", "postgres", regional, regional.resolve("postmaster.pid")).ifPresent(stopped::add);
      }
    } catch (java.io.IOException e) {
      LOG.debug("cannot list {}: {}", dataDir, e.toString());
    }
    return stopped;
  }

  private static Optional<String> stopOne(String what, String program, Path workDir, Path pidFile) {
    Optional<Long> pid = readPid(pidFile);
    if (pid.isEmpty()) {
      return Optional.empty();
    }
    Optional<ProcessHandle> process = ProcessHandle.of(pid.get()).filter(ProcessHandle::isAlive);
    if (process.isEmpty()) {
      return Optional.empty(); // a crash left the file; both servers cope with a dead pid
    }
    if (!runs(process.get(), program, workDir)) {
      // The pid was reused by an unrelated process (e.g. after a reboot); PostgreSQL would refuse to start.
      LOG.warn("{} names pid {}, which is not a {} working in {}: removing the stale pid file", pidFile, pid.get(),
          program, workDir);
      deleteQuietly(pidFile);
      return Optional.empty();
    }
    terminate(process.get(), what);
    String report = what + " (pid " + pid.get() + ")";
    LOG.warn("stopped {} left running by an earlier run of {}", report, workDir.getParent());
    return Optional.of(report);
  }

  /** The first line of a pid file (PostgreSQL puts more lines after it). */
  static Optional<Long> readPid(Path pidFile) {
    try {
      List<String> lines = Files.readAllLines(pidFile);
      return lines.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(lines.get(0).trim()));
    } catch (java.nio.file.NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | NumberFormatException e) {
      LOG.warn("cannot read pid file {}: {}", pidFile, e.toString());
      return Optional.empty();
    }
  }

  /**
   * True if {@code process} is {@code program} with {@code workDir} as its working directory
   * (both servers change into their data directory). Where the working directory cannot be
   * read (no /proc), the program name alone decides.
   */
  static boolean runs(ProcessHandle process, String program, Path workDir) {
    String command = process.info().command().orElse("");
    if (!Path.of(command.isEmpty() ? "?" : command).getFileName().toString().startsWith(program)) {
      return false;
    }
    Path cwd = Path.of("/proc", Long.toString(process.pid()), "cwd");
    try {
      return Files.isSameFile(Files.readSymbolicLink(cwd), workDir);
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return true;
    }
  }

  /** SIGTERM and a grace period for a clean shutdown; SIGKILL (with its children) as the last resort. */
  private static void terminate(ProcessHandle process, String what) {
    List<ProcessHandle> children = process.descendants().toList();
    process.destroy();
    if (awaitExit(process, GRACE)) {
      return;
    }
    LOG.warn("{} (pid {}) ignored SIGTERM for {} s: killing it", what, process.pid(), GRACE.toSeconds());
    process.destroyForcibly();
    children.forEach(ProcessHandle::destroyForcibly); // PostgreSQL backends would keep its shared memory
    if (!awaitExit(process, KILL_WAIT)) {
      throw new IllegalStateException(what + " left by an earlier run (pid " + process.pid() + ") cannot be stopped");
    }
    children.forEach(child -> awaitExit(child, KILL_WAIT));
  }

  private static boolean awaitExit(ProcessHandle process, Duration wait) {
    try {
      process.onExit().get(wait.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return !process.isAlive();
    } catch (ExecutionException e) {
      return !process.isAlive();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while stopping a leftover store process", e);
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      LOG.warn("cannot delete {}: {}", file, e.toString());
    }
  }
}
