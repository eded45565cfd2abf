package dev.genmesh.breakers;

import static dev.genmesh.breakers.BreakerState.CLOSED;
import static dev.genmesh.breakers.BreakerState.OPEN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.BreakerConfig;
import dev.genmesh.protocol.Tier;
import dev.genmesh.testkit.ManualClock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The global breaker: 10 % over 60 s (20 buckets of 3 s), at least 20 outcomes, 10 s hold. */
class FailureRateBreakerTest {
  /** On a bucket boundary (window / 20 = 3 s), so that "within one bucket" is exact. */
  private final ManualClock clock = new ManualClock(Instant.parse("2026-11-27T10:00:00Z"));
  private final List<String> changes = new ArrayList<>();
  private final List<Set<Tier>> shedding = new ArrayList<>();
  private final FailureRateBreaker breaker = new FailureRateBreaker(
      new BreakerConfig.GlobalBreaker(0.10, 60_000, 20, 10_000), clock, new FailureRateBreaker.Listener() {
        @Override
        public void changed(BreakerState from, BreakerState to, String reason) {
          changes.add(from.wireName() + "->" + to.wireName());
        }

        @Override
        public void shedding(Set<Tier> tiers, double failureRate) {
          shedding.add(tiers);
        }
      });

  private void record(int successes, int failures) {
    for (int i = 0; i < successes; i++) {
      breaker.record(false);
    }
    for (int i = 0; i < failures; i++) {
      breaker.record(true);
    }
  }

  @Test
  void oneFailureOfOneDoesNotOpenIt() {
    record(0, 1);
    assertThat(breaker.state()).isEqualTo(CLOSED);
    assertThat(breaker.failureRate()).isEqualTo(1.0);

    record(0, 18);
    assertThat(breaker.state()).as("19 outcomes, below the minimum of 20").isEqualTo(CLOSED);

    record(0, 1);
    assertThat(breaker.state()).isEqualTo(OPEN);
  }

  @Test
  void opensAboveTheRateAndNotAtIt() {
    record(90, 10);
    assertThat(breaker.failureRate()).isEqualTo(0.10);
    assertThat(breaker.state()).as("exactly 10 % is not above 10 %").isEqualTo(CLOSED);
    assertThat(breaker.shedTiers()).isEmpty();

    record(0, 1);

    assertThat(breaker.state()).isEqualTo(OPEN);
    assertThat(changes).containsExactly("closed->open");
  }

  @Test
  void openShedsRelaxAndAboveTwiceTheRateFastTooButNeverTurbo() {
    record(170, 30); // 15 %
    assertThat(breaker.shedTiers()).containsExactly(Tier.RELAX);

    record(0, 30); // 60 of 230: 26 %
    assertThat(breaker.shedTiers()).containsExactlyInAnyOrder(Tier.RELAX, Tier.FAST);

    record(0, 1000);
    assertThat(breaker.shedTiers()).doesNotContain(Tier.TURBO);
    assertThat(shedding).containsExactly(Set.of(Tier.RELAX), Set.of(Tier.RELAX, Tier.FAST));
  }

  @Test
  void theFastLevelHoldsForRetryAfterThenFallsBackToRelax() {
    record(70, 30); // 30 %: relax and fast
    assertThat(breaker.shedTiers()).containsExactlyInAnyOrder(Tier.RELAX, Tier.FAST);
    record(100, 0); // 15 %: only relax by the rate

    clock.advanceMs(9_999);
    assertThat(breaker.shedTiers()).as("held for retry_after after the rate was last above 2x")
        .containsExactlyInAnyOrder(Tier.RELAX, Tier.FAST);
    clock.advanceMs(1);
    assertThat(breaker.shedTiers()).containsExactly(Tier.RELAX);
  }

  @Test
  void theWindowSlidesFailuresAgeOutAndItCloses() {
    record(80, 20); // 20 %
    assertThat(breaker.state()).isEqualTo(OPEN);

    clock.advanceMs(30_000);
    record(100, 0); // 20 of 200 = 10 %: not above, and open for 30 s > hold
    assertThat(breaker.state()).isEqualTo(CLOSED);
    assertThat(changes).containsExactly("closed->open", "open->closed");
  }

  @Test
  void outcomesOlderThanTheWindowNoLongerCount() {
    record(0, 19);
    clock.advanceMs(60_000);
    record(0, 1);

    assertThat(breaker.outcomes()).as("the 19 old failures left the window").isEqualTo(1);
    assertThat(breaker.state()).isEqualTo(CLOSED);
  }

  @Test
  void outcomesStayForTheWholeWindowToWithinOneBucket() {
    record(0, 19);
    clock.advanceMs(59_999); // the first bucket is the oldest of the 20 in the window until 60 s have passed
    record(0, 1);

    assertThat(breaker.outcomes()).isEqualTo(20);
    assertThat(breaker.state()).isEqualTo(OPEN);
  }

  @Test
  void anEmptyWindowClosesItOnceTheHoldIsOver() {
    record(0, 25);
    assertThat(breaker.state()).isEqualTo(OPEN);

    clock.advanceMs(5_000);
    assertThat(breaker.state()).as("still above the rate").isEqualTo(OPEN);
    clock.advanceMs(60_000);
    assertThat(breaker.state()).isEqualTo(CLOSED);
    assertThat(breaker.shedTiers()).isEmpty();
    assertThat(shedding).last().isEqualTo(Set.of());
  }

  @Test
  void staysOpenAtLeastRetryAfterEvenWhenTheRateDropsAtOnce() {
    record(0, 20);
    assertThat(breaker.state()).isEqualTo(OPEN);
    record(1000, 0); // 2 %

    assertThat(breaker.state()).as("shed clients were told to wait 10 s").isEqualTo(OPEN);
    clock.advanceMs(10_000);
    assertThat(breaker.state()).isEqualTo(CLOSED);
  }
}
