package dev.genmesh.bench.queue;

import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * CPU time of this JVM's threads: each event loop on its own (one of them carries the region
 * node; a saturated one would show about 1000 ÷ req/s ms per request), other threads grouped by
 * name without the trailing number. The load generator's threads (its own Vert.x instance's event
 * loops, given by id, and the S3 client's threads, which only its uploads use) are grouped under
 * {@value #GENERATOR}. JIT compiler and GC threads are not Java threads and do not appear; they
 * are the rest of the JVM's total.
 */
final class ThreadCpu {
  static final String GENERATOR = "load generator: ";
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

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
    return perRequest.fieldNames().stream().filter(k -> k.startsWith(GENERATOR)).mapToDouble(perRequest::getDouble).sum();
  }
}
