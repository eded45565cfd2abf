package dev.genmesh.region.workers.impl;

import io.vertx.core.Future;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Runs asynchronous operations one after another per key (a request id), so the reports of one
 * worker (last step, then the result) reach the log in the order they arrived. Used from one
 * event loop only.
 */
public final class KeyedSequencer {
  private final Map<String, Future<?>> tails = new HashMap<>();

  public <T> Future<T> run(String key, Supplier<Future<T>> operation) {
    Future<?> tail = tails.getOrDefault(key, Future.succeededFuture());
    Future<T> next = tail.transform(ignored -> {
      try {
        return operation.get();
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
    });
    tails.put(key, next);
    next.onComplete(ignored -> tails.remove(key, next));
    return next;
  }

  /** Keys with work in flight (for tests and metrics). */
  public int pending() {
    return tails.size();
  }
}
