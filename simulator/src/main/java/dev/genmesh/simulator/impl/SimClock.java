package dev.genmesh.simulator.impl;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** Simulated time, as the policy's clock: seconds since the start of the simulated day. */
public final class SimClock extends Clock {
  private final Instant dayStart;
  private double seconds;

  public SimClock(Instant dayStart) {
    this.dayStart = dayStart;
  }

  public void set(double secondsOfDay) {
    this.seconds = secondsOfDay;
  }

  public Instant at(double secondsOfDay) {
    return dayStart.plusMillis(Math.round(secondsOfDay * 1000));
  }

  @Override
  public Instant instant() {
    return at(seconds);
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
