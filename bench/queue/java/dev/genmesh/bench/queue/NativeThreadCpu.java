package dev.genmesh.bench.queue;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * CPU time of this JVM's own threads that are not Java threads, from /proc/self/task: the garbage
 * collector's ({@code GC Thread#n}, {@code G1 ...}) and the JIT compilers' ({@code C1/C2
 * CompilerThread}). {@link ThreadCpu} cannot see them; they are most of what the JVM's total has
 * beyond its Java threads.
 */
final class NativeThreadCpu {
  private static final double TICKS_PER_SECOND = 100.0;

  private NativeThreadCpu() {}

  /** Clock ticks so far by group: gc, jit. */
  static Map<String, Long> snapshot() {
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
  static JsonObject perRequest(Map<String, Long> before, Map<String, Long> after, int requests) {
    JsonObject out = new JsonObject();
    for (String group : new String[] {"gc", "jit"}) {
      long ticks = after.getOrDefault(group, 0L) - before.getOrDefault(group, 0L);
      out.put(group, Math.round(ticks / TICKS_PER_SECOND * 1000.0 / requests * 100.0) / 100.0);
    }
    return out;
  }
}
