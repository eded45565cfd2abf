package dev.genmesh.inference.impl;

import java.time.Clock;

/**
 * Whether the worker's connection to its region's queue works: when the region last answered a
 * request of the worker (a claim, with work or {@code NO_WORK}; a result it took). Heartbeats
 * are published without an answer, so they prove nothing. Thread-safe.
 */
public final class RegionContact {
  /** Below this, a healthy but busy event bus could make the check flap. */
  static final long MIN_WINDOW_MS = 5_000;

  private final Clock clock;
  private final long windowMs;
  private volatile long lastAnswerMs = -1;

  /** Healthy while the region answered within {@code max(3 claim polls, 5 s)}. */
  public RegionContact(Clock clock, long claimPollMs) {
    this.clock = clock;
    this.windowMs = Math.max(3 * claimPollMs, MIN_WINDOW_MS);
  }

  public void answered() {
    lastAnswerMs = clock.millis();
  }

  /** Milliseconds since the region last answered; -1 if it never did. */
  public long sinceLastAnswerMs() {
    long last = lastAnswerMs;
    return last < 0 ? -1 : Math.max(0, clock.millis() - last);
  }

  public boolean healthy() {
    long since = sinceLastAnswerMs();
    return since >= 0 && since <= windowMs;
  }

  public long windowMs() {
    return windowMs;
  }
}
