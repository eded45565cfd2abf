package dev.genmesh.bench.queue;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * CPU time of this JVM's threads: each event loop on its own (one of them carries the region
 * node; a saturated one would show about 1000 ÷ req/s ms per request), other threads grouped by
 * name without the trailing number. The load generator's threads (its own Vert.x instance's event
 * loops, given by id, and the S3 client's threads, which only its uploads use) are grouped under
 * {@value #GENERATOR}; the virtual workers' own thread (the {@value VirtualWorkers#POOL} worker
 * pool: in production each worker is a process of its own) under {@value #WORKERS}. JIT compiler
 * and GC threads are not Java threads: {@link #gcJitSnapshot} reads them from /proc.
 */
final class ThreadCpu {
  static final String GENERATOR = "load generator: ";
  static final String WORKERS = "virtual workers: ";
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final double TICKS_PER_SECOND = 100.0; // getconf CLK_TCK on Linux x86-64

  private ThreadCpu() {}

  /** Nanoseconds of CPU per thread id, with the thread's name. */
  static Map<Long, Map.Entry<String, Long>> snapshot() {
    Map<Long, Map.Entry<String, Long>> out = new HashMap<>();
    for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
      if (info != null) {
        long nanos = THREADS.getThreadCpuTime(info.getThreadId());
        if (nanos >= 0) {
          out.put(info.getThreadId(), Map.entry(info.getThreadName(), nanos));
        }
      }
    }
    return out;
  }

  /** Bytes allocated so far per thread id (HotSpot's per-thread allocation counter). */
  static Map<Long, Long> allocated() {
    Map<Long, Long> out = new HashMap<>();
    if (THREADS instanceof com.sun.management.ThreadMXBean hotspot) {
      long[] ids = THREADS.getAllThreadIds();
      long[] bytes = hotspot.getThreadAllocatedBytes(ids);
      for (int i = 0; i < ids.length; i++) {
        if (bytes[i] >= 0) {
          out.put(ids[i], bytes[i]);
        }
      }
    }
    return out;
  }

  /**
   * Kilobytes allocated per request by the threads that are neither the load generator's nor the
   * virtual workers': the region node's heap work, which, unlike its CPU time, does not move with
   * the machine's speed or the JIT's luck (a before/after of the node's work per request).
   */
  static double nodeKilobytesPerRequest(Map<Long, Long> before, Map<Long, Long> after,
      Map<Long, Map.Entry<String, Long>> names, int requests, Set<Long> generator) {
    long total = 0;
    for (Map.Entry<Long, Long> e : after.entrySet()) {
      Map.Entry<String, Long> named = names.get(e.getKey());
      String name = named == null ? "" : named.getKey();
      if (generator.contains(e.getKey()) || name.startsWith(VirtualWorkers.POOL) || name.startsWith("aws-java-sdk")
          || name.startsWith("sdk-")) {
        continue;
      }
      total += e.getValue() - before.getOrDefault(e.getKey(), 0L);
    }
    return Math.round(total / 1024.0 / requests * 10.0) / 10.0;
  }

  /** Milliseconds of CPU per request by thread group, largest first, groups under 0.05 ms left out. */
  static JsonObject perRequest(Map<Long, Map.Entry<String, Long>> before, Map<Long, Map.Entry<String, Long>> after,
      int requests, Set<Long> generator) {
    Map<String, Long> byGroup = new HashMap<>();
    after.forEach((id, named) -> {
      long start = before.containsKey(id) ? before.get(id).getValue() : 0;
      String name = named.getKey();
      String group = name.startsWith("vert.x-eventloop") ? name : name.replaceAll("[-#\\s]*\\d+$", "");
      if (generator.contains(id) || name.startsWith("aws-java-sdk") || name.startsWith("sdk-")) {
        group = GENERATOR + group;
      } else if (name.startsWith(VirtualWorkers.POOL)) {
        group = WORKERS + group;
      }
      byGroup.merge(group, named.getValue() - start, Long::sum);
    });
    JsonObject out = new JsonObject();
    byGroup.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .filter(e -> e.getValue() / 1e6 / requests >= 0.05)
        .forEach(e -> out.put(e.getKey(), Math.round(e.getValue() / 1e6 / requests * 100.0) / 100.0));
    return out;
  }

  /** The milliseconds per request of the groups {@link #perRequest} put under {@value #GENERATOR}. */
  static double generatorMs(JsonObject perRequest) {
    return groupMs(perRequest, GENERATOR);
  }

  /** The milliseconds per request of the groups {@link #perRequest} put under {@value #WORKERS}. */
  static double workersMs(JsonObject perRequest) {
    return groupMs(perRequest, WORKERS);
  }

  private static double groupMs(JsonObject perRequest, String prefix) {
    return perRequest.fieldNames().stream().filter(k -> k.startsWith(prefix)).mapToDouble(perRequest::getDouble).sum();
  }

  /**
   * Clock ticks so far of this JVM's threads that are not Java threads, from /proc/self/task, by
   * group: the garbage collector's ({@code GC Thread#n}, {@code G1 ...}) and the JIT compilers'
   * ({@code C1/C2 CompilerThread}); most of what the JVM's total has beyond its Java threads.
   */
  static Map<String, Long> gcJitSnapshot() {
    Map<String, Long> ticks = new HashMap<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      tasks.forEach(task -> {
        try {
          String name = Files.readString(task.resolve("comm")).trim();
          String group = name.startsWith("GC Thread") || name.startsWith("G1 ") ? "gc"
              : name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler") ? "jit" : null;
          if (group != null) {
            String stat = Files.readString(task.resolve("stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            ticks.merge(group, Long.parseLong(f[11]) + Long.parseLong(f[12]), Long::sum);
          }
        } catch (IOException | RuntimeException e) {
          // the thread ended meanwhile
        }
      });
    } catch (IOException e) {
      return ticks;
    }
    return ticks;
  }

  /** Milliseconds per request by group between two snapshots. */
  static JsonObject gcJitPerRequest(Map<String, Long> before, Map<String, Long> after, int requests) {
    JsonObject out = new JsonObject();
    for (String group : new String[] {"gc", "jit"}) {
      long ticks = after.getOrDefault(group, 0L) - before.getOrDefault(group, 0L);
      out.put(group, Math.round(ticks / TICKS_PER_SECOND * 1000.0 / requests * 100.0) / 100.0);
    }
    return out;
  }
}
