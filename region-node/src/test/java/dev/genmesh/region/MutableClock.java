package dev.genmesh.region;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock the test moves (backoffs, routing holds and "for 30 s" windows pass without
 * sleeping). Starts at the real now unless given a start.
 */
public final class MutableClock extends Clock {
  private final AtomicLong millis;

  public MutableClock() {
    this(Instant.now());
  }

  public MutableClock(Instant start) {
    millis = new AtomicLong(start.toEpochMilli());
  }

  public void advance(Duration by) {
    millis.addAndGet(by.toMillis());
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
