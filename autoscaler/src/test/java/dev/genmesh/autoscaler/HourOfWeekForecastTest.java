package dev.genmesh.autoscaler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.genmesh.autoscaler.TrafficForecast.Prediction;
import dev.genmesh.config.ConfigLoader;
import java.time.Duration;
import java.time.Instant;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

class HourOfWeekForecastTest {
  private static final Duration HORIZON = Duration.ofMinutes(30);
  /** A Monday, 00:00 UTC. */
  private static final Instant MONDAY = Instant.parse("2026-11-23T00:00:00Z");

  private final HourOfWeekForecast forecast = new HourOfWeekForecast(ConfigLoader.defaults().autoscaling());

  /** Feeds {@code days} of traffic, one sample every 10 s, the rate a function of the hour of day. */
  private Instant feed(Instant from, int days, DoubleUnaryOperator qpsByHourOfDay) {
    Instant t = from;
    Instant end = from.plus(Duration.ofDays(days));
    while (t.isBefore(end)) {
      double hourOfDay = (t.getEpochSecond() % 86_400) / 3600.0;
      forecast.observe(t, qpsByHourOfDay.applyAsDouble(Math.floor(hourOfDay)));
      t = t.plusSeconds(10);
    }
    return t;
  }

  @Test
  void withoutHistoryTheScheduleTimesThePeakIsTheForecastAndItLooksAheadForPreScaling() {
    Prediction night = forecast.predict(MONDAY.plus(Duration.ofHours(3)), HORIZON);
    Prediction beforeTen = forecast.predict(MONDAY.plus(Duration.ofMinutes(9 * 60 + 20)), HORIZON);
    Prediction justBeforeTen = forecast.predict(MONDAY.plus(Duration.ofMinutes(9 * 60 + 35)), HORIZON);
    Prediction lateEvening = forecast.predict(MONDAY.plus(Duration.ofHours(23)), HORIZON);

    assertThat(night.qps()).isEqualTo(0.3 * 60);                // 02:00 30 %
    assertThat(night.source()).isEqualTo(TrafficForecast.SOURCE_SCHEDULE);
    assertThat(beforeTen.qps()).isEqualTo(0.5 * 60);            // 06:00 50 %, 10:00 beyond the horizon
    assertThat(justBeforeTen.qps()).isEqualTo(60.0);            // 10:00 100 % within 30 min: pre-scale
    assertThat(lateEvening.qps()).isEqualTo(0.7 * 60);          // 22:00 70 %
    assertThat(forecast.predict(MONDAY.plus(Duration.ofMinutes(90)), HORIZON).qps()).isEqualTo(0.7 * 60); // wraps to 22:00
  }

  @Test
  void aWeekOfTrafficReplacesTheScheduleWithTheLearnedProfile() {
    DoubleUnaryOperator usual = hour -> hour >= 12 && hour < 14 ? 80 : 10;
    Instant nextMonday = feed(MONDAY, 7, usual);
    // The next Monday runs as usual until 08:00, then until 11:40.
    Instant eight = nextMonday.plus(Duration.ofHours(8));
    for (Instant s = nextMonday; s.isBefore(eight); s = s.plusSeconds(10)) {
      forecast.observe(s, 10);
    }
    Prediction morning = forecast.predict(eight, HORIZON);
    Instant twentyToNoon = nextMonday.plus(Duration.ofMinutes(11 * 60 + 40));
    for (Instant s = eight; s.isBefore(twentyToNoon); s = s.plusSeconds(10)) {
      forecast.observe(s, 10);
    }
    Prediction noon = forecast.predict(twentyToNoon, HORIZON);

    assertThat(morning.source()).isEqualTo(TrafficForecast.SOURCE_LEARNED);
    assertThat(morning.qps()).isCloseTo(10, within(0.01)); // the schedule would have said 30
    assertThat(noon.source()).isEqualTo(TrafficForecast.SOURCE_LEARNED);
    // The 12:00 hour's 80 stands for 12:30; 12:10, the horizon's end, is two thirds of the way from 11:30's 10.
    // The level compares what came with that line: a rise that comes as a step at 12:00 reads as a quieter day
    // until it comes.
    assertThat(noon.qps()).isCloseTo((10 + (80 - 10) * 2.0 / 3) * noon.level(), within(0.01));
    assertThat(noon.level()).isBetween(0.5, 1.0);
    assertThat(forecast.weeksSeen(nextMonday.plus(Duration.ofHours(12)))).isEqualTo(1);
  }

  @Test
  void betweenTheMiddlesOfTwoLearnedHoursTheProfileIsTheLineJoiningThem() {
    Instant nextMonday = feed(MONDAY, 7, hour -> hour == 12 ? 70 : 10);
    Instant noon = nextMonday.plus(Duration.ofHours(12));

    assertThat(forecast.expected(noon.plus(Duration.ofMinutes(30)))).isCloseTo(70, within(1e-9)); // the hour's middle
    assertThat(forecast.expected(noon)).isCloseTo(40, within(1e-9));                              // halfway from 11:30
    assertThat(forecast.expected(noon.plus(Duration.ofMinutes(45)))).isCloseTo(55, within(1e-9)); // a quarter of the way down
    assertThat(forecast.expected(noon.minus(Duration.ofMinutes(30)))).isCloseTo(10, within(1e-9));
    // Ten minutes ahead from 11:40 (to 11:50, 20 min past 11:30) the rise is a third done, not the hour's full 70.
    Prediction ahead = forecast.predict(noon.minus(Duration.ofMinutes(20)), Duration.ofMinutes(10));
    assertThat(ahead.qps()).isCloseTo((10 + 60 * (20.0 / 60)) * ahead.level(), within(0.01));
    assertThat(ahead.source()).isEqualTo(TrafficForecast.SOURCE_LEARNED);
  }

  @Test
  void aLearnedHourNextToAnUnlearnedOneStaysFlat() {
    Instant t = MONDAY.plus(Duration.ofHours(5));
    for (Instant end = t.plus(Duration.ofHours(1)); t.isBefore(end); t = t.plusSeconds(10)) {
      forecast.observe(t, 40); // only 05:00-06:00 of the Monday is ever seen
    }
    forecast.observe(t, 40); // closes the hour

    assertThat(forecast.expected(MONDAY.plus(Duration.ofMinutes(5 * 60 + 5)))).isCloseTo(40, within(1e-9));
    assertThat(forecast.expected(MONDAY.plus(Duration.ofMinutes(5 * 60 + 55)))).isCloseTo(40, within(1e-9));
    assertThat(forecast.expected(MONDAY.plus(Duration.ofMinutes(6 * 60 + 5)))).isEqualTo(0.5 * 60); // the schedule
  }

  @Test
  void eachNewWeekEntersItsSlotWithExponentialSmoothing() {
    Instant t = feed(MONDAY, 7, hour -> 10);
    t = feed(t, 7, hour -> 20);

    // smoothing 0.3: 0.3 x 20 + 0.7 x 10
    assertThat(forecast.expected(t.plus(Duration.ofHours(5)))).isCloseTo(13.0, within(1e-9));
    assertThat(forecast.weeksSeen(t.plus(Duration.ofHours(5)))).isEqualTo(2);
  }

  @Test
  void todaysLevelScalesTheProfileWithinItsBounds() {
    Instant t = feed(MONDAY, 7, hour -> 10);
    for (Instant end = t.plus(Duration.ofHours(1)); t.isBefore(end); t = t.plusSeconds(10)) {
      forecast.observe(t, 10); // the first hour of the second week as usual
    }
    // Then today runs at 15 where the profile says 10: after the level window the forecast follows.
    Instant later = t.plus(Duration.ofMinutes(45));
    for (Instant s = t; s.isBefore(later); s = s.plusSeconds(10)) {
      forecast.observe(s, 15);
    }
    Prediction busier = forecast.predict(later, HORIZON);
    assertThat(busier.level()).isCloseTo(1.5, within(0.05));
    assertThat(busier.qps()).isCloseTo(15, within(0.5));

    Instant muchLater = later.plus(Duration.ofHours(2));
    for (Instant s = later; s.isBefore(muchLater); s = s.plusSeconds(10)) {
      forecast.observe(s, 100);
    }
    assertThat(forecast.predict(muchLater, HORIZON).level()).isEqualTo(2.0); // level_max
  }

  @Test
  void anHourWatchedForLessThanHalfOfItIsNotLearned() {
    Instant start = MONDAY.plus(Duration.ofMinutes(40)); // joins at 00:40
    for (Instant s = start; s.isBefore(MONDAY.plus(Duration.ofMinutes(70))); s = s.plusSeconds(10)) {
      forecast.observe(s, 50);
    }
    assertThat(forecast.weeksSeen(MONDAY)).isZero();
  }
}
