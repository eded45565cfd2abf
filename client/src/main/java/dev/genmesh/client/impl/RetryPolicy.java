package dev.genmesh.client.impl;

import dev.genmesh.client.ClientOptions;
import dev.genmesh.client.GenmeshException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * When to try a call again and how long to wait first. Only a call that got no answer, a
 * {@code 429} or a {@code 503} is tried again (a submit keeps its idempotency key); any other 4xx
 * or 5xx is the edge's answer about the request. The wait is the edge's {@code Retry-After} when
 * it sent one, else {@code initial × 2^(attempt-1)} with jitter (between half and all of it); both
 * capped at {@code maxBackoff}.
 */
public final class RetryPolicy {
  private final int maxAttempts;
  private final long initialMs;
  private final long maxMs;
  private final DoubleSupplier random;

  public RetryPolicy(ClientOptions options) {
    this(options, () -> ThreadLocalRandom.current().nextDouble());
  }

  /** @param random uniform in [0, 1), for the jitter */
  public RetryPolicy(ClientOptions options, DoubleSupplier random) {
    this.maxAttempts = options.maxAttempts();
    this.initialMs = options.initialBackoff().toMillis();
    this.maxMs = options.maxBackoff().toMillis();
    this.random = random;
  }

  /** After {@code attemptsMade} calls, the last of which failed so: another one? */
  public boolean shouldRetry(int attemptsMade, GenmeshException failure) {
    return failure.isRetryable() && attemptsMade < maxAttempts;
  }

  /** How long to wait before the call after {@code attemptsMade} (1 or more) calls. */
  public long delayMs(int attemptsMade, GenmeshException failure) {
    if (failure.retryAfterSeconds().isPresent()) {
      return Math.min(maxMs, Math.max(0, failure.retryAfterSeconds().get()) * 1000);
    }
    return backoffMs(attemptsMade);
  }

  /** The wait without a {@code Retry-After}: exponential, capped, jittered. */
  public long backoffMs(int attemptsMade) {
    int exponent = Math.min(30, Math.max(0, attemptsMade - 1));
    long full = Math.min(maxMs, initialMs << exponent);
    return full / 2 + (long) (random.getAsDouble() * (full - full / 2));
  }
}
