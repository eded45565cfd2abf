package dev.genmesh.bench.queue;

import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Start and end times (System.nanoTime) of numbered operations, written from any thread;
 * summarised once every operation ended. Exact percentiles (nearest rank) from a sorted copy:
 * at a few thousand samples a histogram buys nothing.
 */
final class Latencies {
  private final AtomicLongArray started;
  private final AtomicLongArray ended;

  Latencies(int count) {
    started = new AtomicLongArray(count);
    ended = new AtomicLongArray(count);
  }

  void start(int index, long nanos) {
    started.set(index, nanos);
  }

  void end(int index, long nanos) {
    ended.set(index, nanos);
  }

  boolean ended(int index) {
    return ended.get(index) != 0;
  }

  /** Wall time from the first start to the last end. */
  long spanNanos() {
    long first = Long.MAX_VALUE;
    long last = Long.MIN_VALUE;
    for (int i = 0; i < started.length(); i++) {
      if (ended.get(i) != 0) {
        first = Math.min(first, started.get(i));
        last = Math.max(last, ended.get(i));
      }
    }
    return last > first ? last - first : 0;
  }

  /** {count, mean_ms, p50_ms, p95_ms, p99_ms, max_ms} over the operations that ended. */
  JsonObject summary() {
    long[] nanos = new long[started.length()];
    int n = 0;
    for (int i = 0; i < started.length(); i++) {
      if (ended.get(i) != 0) {
        nanos[n++] = ended.get(i) - started.get(i);
      }
    }
    return summary(Arrays.copyOf(nanos, n));
  }

  static JsonObject summary(long[] nanos) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    JsonObject out = new JsonObject().put("count", sorted.length);
    if (sorted.length == 0) {
      return out;
    }
    double sum = 0;
    for (long v : sorted) {
      sum += v;
    }
    return out.put("mean_ms", ms(sum / sorted.length))
        .put("p50_ms", ms(rank(sorted, 0.50)))
        .put("p95_ms", ms(rank(sorted, 0.95)))
        .put("p99_ms", ms(rank(sorted, 0.99)))
        .put("max_ms", ms(sorted[sorted.length - 1]));
  }

  private static long rank(long[] sorted, double p) {
    int index = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  private static double ms(double nanos) {
    return Math.round(nanos / 10_000.0) / 100.0;
  }
}
