package dev.genmesh.inference.impl;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The models a worker serves but could not load, and when it may try each again. A request for
 * such a model makes the worker try (pull again, verify, load, warm up) once the backoff since
 * the last failed attempt has passed: {@code min(60 s, 2^attempts s)}, so a model that stays
 * broken is tried at most about once a minute however many requests ask for it. Thread-safe:
 * the TF thread writes, the event loop and the HTTP probes read.
 */
public final class ModelLoadFailures {
  static final Duration MAX_BACKOFF = Duration.ofSeconds(60);

  /** The last failed attempt at one model. */
  public record Failure(String model, String reason, int attempts, Instant lastAttempt, Instant nextAttempt) {}

  private final Clock clock;
  private final Map<String, Failure> failures = new LinkedHashMap<>();

  public ModelLoadFailures(Clock clock) {
    this.clock = clock;
  }

  /** An attempt at {@code model} failed. */
  public synchronized Failure failed(String model, String reason) {
    Failure before = failures.get(model);
    int attempts = before == null ? 1 : before.attempts() + 1;
    Instant now = clock.instant();
    Failure failure = new Failure(model, reason, attempts, now, now.plus(backoff(attempts)));
    failures.put(model, failure);
    return failure;
  }

  /** {@code model} loaded: it is not failing any more. */
  public synchronized void loaded(String model) {
    failures.remove(model);
  }

  /** The last failure of {@code model}; null when it is not failing. */
  public synchronized Failure get(String model) {
    return failures.get(model);
  }

  /** True when {@code model} failed and its backoff has passed. */
  public synchronized boolean mayTry(String model) {
    Failure failure = failures.get(model);
    return failure != null && !clock.instant().isBefore(failure.nextAttempt());
  }

  /** Failing model → the reason of its last failed attempt. */
  public synchronized Map<String, String> reasons() {
    Map<String, String> reasons = new LinkedHashMap<>();
    failures.forEach((model, failure) -> reasons.put(model, failure.reason()));
    return reasons;
  }

  static Duration backoff(int attempts) {
    return attempts >= 6 ? MAX_BACKOFF : Duration.ofSeconds(Math.min(MAX_BACKOFF.toSeconds(), 1L << attempts));
  }
}
