package dev.genmesh.breakers;

import static dev.genmesh.breakers.BreakerState.CLOSED;
import static dev.genmesh.breakers.BreakerState.HALF_OPEN;
import static dev.genmesh.breakers.BreakerState.OPEN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.BreakerConfig;
import dev.genmesh.testkit.ManualClock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The per-model / per-worker breaker, by the clock: 5 failures / 3 successes / 60 s, two trials at a time. */
class CountingBreakerTest {
  private final ManualClock clock = new ManualClock(Instant.parse("2026-11-27T10:00:00Z"));
  private final List<String> changes = new ArrayList<>();
  private final CountingBreaker breaker = new CountingBreaker(new BreakerConfig.Breaker(5, 3, 60_000, 2), clock,
      (from, to, reason) -> changes.add(from.wireName() + "->" + to.wireName()));

  private void fail(int times) {
    for (int i = 0; i < times; i++) {
      breaker.onFailure("r" + i, "error");
    }
  }

  private void openAndWait() {
    fail(5);
    clock.advanceMs(60_000);
    assertThat(breaker.state()).isEqualTo(HALF_OPEN);
  }

  @Test
  void opensAfterTheConfiguredFailuresInARowAndNotBefore() {
    fail(4);
    assertThat(breaker.state()).isEqualTo(CLOSED);
    assertThat(breaker.tryAcquire()).isSameAs(CountingBreaker.FREE);

    breaker.onFailure("r5", "gpu_error");

    assertThat(breaker.state()).isEqualTo(OPEN);
    assertThat(breaker.tryAcquire()).as("nothing passes while open").isNull();
    assertThat(changes).containsExactly("closed->open");
  }

  @Test
  void aSuccessResetsTheCountOfFailuresInARow() {
    fail(4);
    breaker.onSuccess("ok");
    fail(4);

    assertThat(breaker.state()).isEqualTo(CLOSED);
    assertThat(breaker.failuresInARow()).isEqualTo(4);
  }

  @Test
  void staysOpenForOpenMsThenTurnsHalfOpen() {
    fail(5);
    clock.advanceMs(59_999);
    assertThat(breaker.state()).isEqualTo(OPEN);

    clock.advanceMs(1);

    assertThat(breaker.state()).isEqualTo(HALF_OPEN);
    assertThat(changes).containsExactly("closed->open", "open->half_open");
  }

  @Test
  void halfOpenLetsOnlyTheConfiguredNumberOfTrialsRunAtATime() {
    openAndWait();

    CountingBreaker.Permit first = breaker.tryAcquire();
    CountingBreaker.Permit second = breaker.tryAcquire();
    assertThat(first).isNotNull().isNotSameAs(CountingBreaker.FREE);
    assertThat(second).isNotNull();
    assertThat(breaker.tryAcquire()).as("a third trial while two run").isNull();

    first.release();
    assertThat(breaker.tryAcquire()).as("a released slot is free again").isNotNull();
  }

  @Test
  void aTrialsOutcomeFreesItsSlot() {
    openAndWait();
    breaker.tryAcquire().bind("t1");
    breaker.tryAcquire().bind("t2");
    assertThat(breaker.tryAcquire()).isNull();

    breaker.onSuccess("t1");
    assertThat(breaker.trialsRunning()).isEqualTo(1);
    breaker.onNeither("t2"); // cancelled: no evidence, but the slot is free
    assertThat(breaker.trialsRunning()).isZero();
    assertThat(breaker.state()).isEqualTo(HALF_OPEN);
  }

  @Test
  void aTrialThatNeverReportsGivesItsSlotBackAfterOpenMs() {
    openAndWait();
    breaker.tryAcquire().bind("silent-1");
    breaker.tryAcquire().bind("silent-2");
    assertThat(breaker.tryAcquire()).isNull();

    clock.advanceMs(60_000);

    assertThat(breaker.tryAcquire()).isNotNull();
  }

  @Test
  void closesAfterTheConfiguredSuccessesWhileHalfOpen() {
    openAndWait();
    breaker.onSuccess("t1");
    breaker.onSuccess("t2");
    assertThat(breaker.state()).isEqualTo(HALF_OPEN);

    breaker.onSuccess("t3");

    assertThat(breaker.state()).isEqualTo(CLOSED);
    assertThat(breaker.tryAcquire()).isSameAs(CountingBreaker.FREE);
    assertThat(changes).containsExactly("closed->open", "open->half_open", "half_open->closed");
    fail(4);
    assertThat(breaker.state()).as("closed again counts from zero").isEqualTo(CLOSED);
  }

  @Test
  void oneFailureWhileHalfOpenOpensItAgainForAnotherFullOpenMs() {
    openAndWait();
    breaker.onSuccess("t1");
    breaker.onSuccess("t2");

    breaker.onFailure("t3", "model_corrupted");

    assertThat(breaker.state()).isEqualTo(OPEN);
    clock.advanceMs(59_999);
    assertThat(breaker.state()).isEqualTo(OPEN);
    clock.advanceMs(1);
    assertThat(breaker.state()).isEqualTo(HALF_OPEN);
    breaker.onSuccess("a");
    breaker.onSuccess("b");
    assertThat(breaker.state()).as("successes before the reopening do not count").isEqualTo(HALF_OPEN);
    assertThat(changes).containsExactly("closed->open", "open->half_open", "half_open->open", "open->half_open");
  }

  @Test
  void outcomesWhileOpenChangeNothing() {
    fail(5);
    breaker.onSuccess("late");
    breaker.onSuccess("late");
    breaker.onSuccess("late");
    breaker.onFailure("late", "error");

    assertThat(breaker.state()).isEqualTo(OPEN);
    clock.advanceMs(60_000);
    assertThat(breaker.state()).as("the open time did not restart").isEqualTo(HALF_OPEN);
  }

  @Test
  void permitsOfAnEarlierHalfOpenPeriodAreVoid() {
    openAndWait();
    CountingBreaker.Permit old = breaker.tryAcquire();
    old.bind("old");
    breaker.onFailure("other", "error");
    clock.advanceMs(60_000);
    breaker.tryAcquire();
    breaker.tryAcquire();

    old.release();
    breaker.onSuccess("old");

    assertThat(breaker.trialsRunning()).as("an old permit frees nothing of the new period").isEqualTo(2);
  }

  @Test
  void isPristineOnlyWhenClosedWithoutFailures() {
    assertThat(breaker.isPristine()).isTrue();
    fail(1);
    assertThat(breaker.isPristine()).isFalse();
    breaker.onSuccess("x");
    assertThat(breaker.isPristine()).isTrue();
  }
}
