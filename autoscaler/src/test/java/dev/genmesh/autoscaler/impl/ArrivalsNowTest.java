package dev.genmesh.autoscaler.impl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The arrivals the policy plans for: Poisson noise is smoothed away, a real change is taken at once. */
class ArrivalsNowTest {
  private static final Instant T0 = Instant.parse("2026-11-25T12:00:00Z");
  private static final Duration TICK = Duration.ofSeconds(10);

  private final ArrivalsNow arrivals = new ArrivalsNow(180_000);

  @Test
  void minuteCountsOfASteadyRateDoNotLiftThePlanToTheirPeaks() {
    SplittableRandom random = new SplittableRandom(7);
    double rate = 60;
    double highestRaw = 0;
    double highestPlanned = 0;
    Instant t = T0;
    for (int i = 0; i < 6 * 60 * 4; i++, t = t.plus(TICK)) {
      // A minute's Poisson count at 60/s: 3 600 +- 60 (normal approximation).
      double raw = (3600 + 60 * gaussian(random)) / 60.0;
      double planned = arrivals.update(raw, t);
      if (i > 36) {
        highestRaw = Math.max(highestRaw, raw);
        highestPlanned = Math.max(highestPlanned, planned);
      }
    }
    assertThat(highestRaw).as("the raw minute count peaks above the rate").isGreaterThan(rate * 1.04);
    assertThat(highestPlanned).as("what the policy plans for stays near the rate").isLessThan(rate * 1.02);
  }

  @Test
  void aFlashCrowdIsTakenAtOnceAndSoIsAQuietStart() {
    Instant t = T0;
    assertThat(arrivals.update(0, t)).isZero();
    assertThat(arrivals.update(40, t = t.plus(TICK))).as("from nothing to 40/s").isEqualTo(40);
    for (int i = 0; i < 30; i++) {
      arrivals.update(40, t = t.plus(TICK));
    }
    assertThat(arrivals.update(400, t = t.plus(TICK))).as("10x: far beyond the noise of a count of 2 400").isEqualTo(400);
  }

  @Test
  void aSmallRealRiseIsFollowedWithinTheWindow() {
    Instant t = T0;
    arrivals.update(50, t);
    double planned = 0;
    for (int i = 0; i < 18; i++) { // three minutes at 52/s: within the noise of one minute, so smoothed
      planned = arrivals.update(52, t = t.plus(TICK));
    }
    assertThat(planned).isCloseTo(50 + 2 * (1 - Math.exp(-1)), within(0.01));
  }

  private static double gaussian(SplittableRandom random) {
    return Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble());
  }
}
