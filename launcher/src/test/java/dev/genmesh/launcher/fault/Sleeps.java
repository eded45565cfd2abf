package dev.genmesh.launcher.fault;

import java.time.Duration;
import java.util.function.Supplier;

/** Bounded waiting for the fault tests: every loop has a deadline, and a failure says what it waited for. */
final class Sleeps {
  private Sleeps() {}

  static void pause(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** Polls {@code probe} every 200 ms until it returns non-null; fails with {@code what} after {@code timeout}. */
  static <T> T until(String what, Duration timeout, Supplier<T> probe) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T value = probe.get();
      if (value != null) {
        return value;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
      }
      pause(Duration.ofMillis(200));
    }
  }
}
