package dev.genmesh.inference.impl;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ModelLoadFailuresTest {
  private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
  private final Clock clock = new Clock() {
    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now.get();
    }
  };

  @Test
  void aBrokenModelIsTriedAgainAfterABackoffThatDoublesUpToAMinute() {
    ModelLoadFailures failures = new ModelLoadFailures(clock);
    assertThat(failures.mayTry("m")).as("not failing: nothing to try again").isFalse();

    failures.failed("m", "checksum");
    assertThat(failures.mayTry("m")).isFalse();
    advance(Duration.ofMillis(1999));
    assertThat(failures.mayTry("m")).isFalse();
    advance(Duration.ofMillis(1));
    assertThat(failures.mayTry("m")).isTrue();

    long[] expected = {4, 8, 16, 32, 60, 60};
    for (long seconds : expected) {
      ModelLoadFailures.Failure f = failures.failed("m", "still broken");
      assertThat(Duration.between(f.lastAttempt(), f.nextAttempt())).isEqualTo(Duration.ofSeconds(seconds));
    }
    assertThat(failures.get("m").attempts()).isEqualTo(7);
    assertThat(failures.reasons()).containsExactly(java.util.Map.entry("m", "still broken"));

    failures.loaded("m");
    assertThat(failures.get("m")).isNull();
    assertThat(failures.reasons()).isEmpty();
    assertThat(failures.failed("m", "again").attempts()).as("a new streak").isEqualTo(1);
  }

  @Test
  void theQueueCountsAsHealthyForThreeClaimPollsButAtLeastFiveSeconds() {
    RegionContact fast = new RegionContact(clock, 50);
    assertThat(fast.healthy()).as("never answered").isFalse();
    assertThat(fast.sinceLastAnswerMs()).isEqualTo(-1);
    fast.answered();
    advance(Duration.ofMillis(5000));
    assertThat(fast.healthy()).isTrue();
    advance(Duration.ofMillis(1));
    assertThat(fast.healthy()).isFalse();

    RegionContact slow = new RegionContact(clock, 4000);
    slow.answered();
    advance(Duration.ofSeconds(12));
    assertThat(slow.healthy()).isTrue();
    advance(Duration.ofMillis(1));
    assertThat(slow.healthy()).isFalse();
    assertThat(slow.sinceLastAnswerMs()).isEqualTo(12_001);
  }

  private void advance(Duration by) {
    now.set(now.get().plus(by));
  }
}
