package dev.genmesh.testkit;

import io.vertx.core.Future;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/** Waiting on the test thread (never on an event loop): for a future, or for a condition the system reaches. */
public final class Waits {
  /** How long a future or a condition gets unless the test says otherwise. */
  public static final long DEFAULT_TIMEOUT_S = 20;
  private static final long POLL_MS = 50;

  private Waits() {}

  /** The future's result; an {@link AssertionError} if it failed or took longer than the default timeout. */
  public static <T> T await(Future<T> future) {
    return await(DEFAULT_TIMEOUT_S, future);
  }

  public static <T> T await(long timeoutSeconds, Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(timeoutSeconds, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("future failed: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError("future did not complete within " + timeoutSeconds + " s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for a future", e);
    }
  }

  /** The failure of a future that must fail. */
  public static Throwable failure(Future<?> future) {
    try {
      Object value = future.toCompletionStage().toCompletableFuture().get(DEFAULT_TIMEOUT_S, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure, got " + value);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (TimeoutException e) {
      throw new AssertionError("future did not complete within " + DEFAULT_TIMEOUT_S + " s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for a future", e);
    }
  }

  /** Returns once {@code condition} holds; fails naming {@code what} after the default timeout. */
  public static void eventually(String what, BooleanSupplier condition) {
    eventually(DEFAULT_TIMEOUT_S, POLL_MS, condition, what);
  }

  /** Returns once {@code condition} holds; fails naming {@code what} after {@code timeoutSeconds}. */
  public static void eventually(long timeoutSeconds, BooleanSupplier condition, String what) {
    eventually(timeoutSeconds, POLL_MS, condition, what);
  }

  /** The same, asking every {@code pollMs} (for conditions that cost requests to the system). */
  public static void eventually(long timeoutSeconds, long pollMs, BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeoutSeconds + " s waiting for " + what);
      }
      try {
        Thread.sleep(pollMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      }
    }
  }
}
