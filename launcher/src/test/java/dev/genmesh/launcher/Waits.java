package dev.genmesh.launcher;

import io.vertx.core.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Waiting in the launcher's tests: for a condition the mesh reaches, or for a future. */
public final class Waits {
  private static final long POLL_MS = 50;

  private Waits() {}

  /** Returns once {@code condition} holds; fails naming {@code what} after {@code timeoutSeconds}. */
  public static void eventually(long timeoutSeconds, BooleanSupplier condition, String what) throws InterruptedException {
    eventually(timeoutSeconds, POLL_MS, condition, what);
  }

  /** The same, asking every {@code pollMs} (for conditions that cost requests to the mesh). */
  public static void eventually(long timeoutSeconds, long pollMs, BooleanSupplier condition, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(pollMs);
    }
  }

  public static <T> T await(long timeoutSeconds, Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(timeoutSeconds, TimeUnit.SECONDS);
  }
}
