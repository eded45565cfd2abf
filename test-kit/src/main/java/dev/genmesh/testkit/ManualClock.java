package dev.genmesh.testkit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock that moves only when the test says so, so that backoffs, routing holds and "for 30 s"
 * windows pass without sleeping. Thread-safe: the code under test may read it from any thread.
 */
public final class ManualClock extends Clock {
  private final AtomicLong millis;

  /** Starts at the real now. */
  public ManualClock() {
    this(Instant.now());
  }

  public ManualClock(Instant start) {
    millis = new AtomicLong(start.toEpochMilli());
  }

  public void advance(Duration by) {
    millis.addAndGet(by.toMillis());
  }

  public void advanceMs(long ms) {
    millis.addAndGet(ms);
  }

  public void set(Instant to) {
    millis.set(to.toEpochMilli());
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }

  @Override
  public long millis() {
    return millis.get();
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis.get());
  }
}
