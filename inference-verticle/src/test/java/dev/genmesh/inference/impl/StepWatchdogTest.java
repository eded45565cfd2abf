package dev.genmesh.inference.impl;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** A batch that stops making steps is stalled; an idle worker or a slow but moving batch is not. */
class StepWatchdogTest {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final StepWatchdog watchdog = new StepWatchdog(nanos::get);

  private void advanceMs(long ms) {
    nanos.addAndGet(ms * 1_000_000);
  }

  @Test
  void idleIsNeverStalled() {
    advanceMs(10 * StepWatchdog.MIN_STALL_MS);
    assertThat(watchdog.stalled()).isFalse();
    assertThat(watchdog.silentMs()).isZero();
  }

  @Test
  void aBatchWithoutAStepForTheMinimumIsStalled() {
    watchdog.batchStarted();
    advanceMs(StepWatchdog.MIN_STALL_MS);
    assertThat(watchdog.stalled()).as("at the limit").isFalse();
    advanceMs(1);
    assertThat(watchdog.stalled()).isTrue();
    watchdog.stepped();
    assertThat(watchdog.stalled()).as("a step again").isFalse();
    watchdog.batchEnded();
    advanceMs(10 * StepWatchdog.MIN_STALL_MS);
    assertThat(watchdog.stalled()).isFalse();
  }

  @Test
  void slowStepsRaiseTheLimit() {
    watchdog.batchStarted();
    advanceMs(10_000);
    watchdog.stepped(); // a 10 s step: the limit becomes 20 × 10 s = 200 s
    assertThat(watchdog.limitMs()).isEqualTo(200_000);
    advanceMs(150_000);
    assertThat(watchdog.stalled()).isFalse();
    advanceMs(50_001);
    assertThat(watchdog.stalled()).isTrue();
  }
}
