package dev.genmesh.bench.queue;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * CPU time of this JVM, of the PostgreSQL server (postmaster and all its backends) and of the
 * Redis server, from /proc, so a run can say where the two cores went.
 */
final class ProcCpu {
  private static final double TICKS_PER_SECOND = 100.0; // getconf CLK_TCK on Linux x86-64

  private final long pgPid;
  private final long redisPid;
  private final long safetyPid;
  private final long objectStorePid;
  private long uploaderPid = -1;

  /**
   * @param safetyPid an external safety service's process, or -1
   * @param objectStorePid the JVM that runs the S3-compatible store (BenchStores: S3Proxy; its
   *     PostgreSQL and Redis are processes of their own), or -1
   */
  ProcCpu(long pgPid, long redisPid, long safetyPid, long objectStorePid) {
    this.pgPid = pgPid;
    this.redisPid = redisPid;
    this.safetyPid = safetyPid;
    this.objectStorePid = objectStorePid;
  }

  /** Also reports the CPU of the workers' {@link Uploader} JVM ({@code uploader_s}), if {@code pid} > 0. */
  ProcCpu withUploader(long pid) {
    this.uploaderPid = pid;
    return this;
  }

  ProcCpu(long pgPid, long redisPid) {
    this(pgPid, redisPid, -1, -1);
  }

  /** Seconds of CPU so far: {jvm_s, pg_s, redis_s[, safety_s][, s3_s]}. */
  JsonObject snapshot() {
    JsonObject cpu = new JsonObject()
        .put("jvm_s", ticks(ProcessHandle.current().pid()) / TICKS_PER_SECOND)
        .put("pg_s", treeTicks(pgPid) / TICKS_PER_SECOND)
        .put("redis_s", ticks(redisPid) / TICKS_PER_SECOND);
    if (objectStorePid > 0) {
      cpu.put("s3_s", ticks(objectStorePid) / TICKS_PER_SECOND);
    }
    if (uploaderPid > 0) {
      cpu.put("uploader_s", ticks(uploaderPid) / TICKS_PER_SECOND);
    }
    return safetyPid > 0 ? cpu.put("safety_s", ticks(safetyPid) / TICKS_PER_SECOND) : cpu;
  }

  /** Milliseconds of CPU per operation between two snapshots. */
  static JsonObject perOperation(JsonObject before, JsonObject after, int operations) {
    JsonObject out = new JsonObject();
    for (String key : after.fieldNames()) {
      double seconds = after.getDouble(key) - before.getDouble(key);
      out.put(key.replace("_s", "_ms_per_req"), Math.round(seconds * 1000.0 / operations * 1000.0) / 1000.0);
    }
    return out;
  }

  /** The 1, 5 and 15 minute load averages of the machine (other builds share it). */
  static String loadAverage() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
      return parts[0] + " " + parts[1] + " " + parts[2];
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static long treeTicks(long root) {
    if (root <= 0) {
      return 0;
    }
    long total = ticks(root);
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path proc : (Iterable<Path>) procs::iterator) {
        String name = proc.getFileName().toString();
        if (name.chars().allMatch(Character::isDigit) && parent(proc) == root) {
          total += ticks(Long.parseLong(name));
        }
      }
    } catch (IOException e) {
      return total;
    }
    return total;
  }

  /** utime + stime of one process; 0 if it is gone. */
  private static long ticks(long pid) {
    String[] fields = statFields(Path.of("/proc", Long.toString(pid)));
    return fields == null ? 0 : Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }

  private static long parent(Path proc) {
    String[] fields = statFields(proc);
    return fields == null ? -1 : Long.parseLong(fields[1]);
  }

  /** The fields of /proc/PID/stat after the command name (field 3 onwards), or null. */
  private static String[] statFields(Path proc) {
    try {
      String stat = Files.readString(proc.resolve("stat"));
      return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
