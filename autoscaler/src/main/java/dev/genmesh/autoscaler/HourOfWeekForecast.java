package dev.genmesh.autoscaler;

import dev.genmesh.config.AutoscalingConfig;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * An hour-of-week profile of the region's arrivals (168 slots, each the exponentially smoothed
 * mean of that hour in the weeks seen), scaled by today's level (recent arrivals over what the
 * profile expected for now). A slot's mean stands for the middle of its hour, and between two
 * learned middles the profile is the line joining them: a day's traffic ramps, and a step at each
 * full hour would have the policy hold the next hour's peak from the moment it enters the horizon.
 * Hours never seen fall back to the time-of-day schedule times the configured peak, so a new
 * region pre-scales by the design's schedule from its first day.
 */
public final class HourOfWeekForecast implements TrafficForecast {
  static final int SLOTS = 7 * 24;
  /** Steps at which the horizon is sampled: fine enough for hourly slots and HH:MM schedule points. */
  private static final Duration SAMPLE_STEP = Duration.ofMinutes(5);

  private final double[] profile = new double[SLOTS];
  private final int[] seen = new int[SLOTS];
  /** Per slot, its value before its latest fold, and when that fold happened (epoch second). */
  private final double[] beforeFold = new double[SLOTS];
  private final long[] foldedAt = new long[SLOTS];
  private final NavigableMap<Integer, Double> schedule = new TreeMap<>();
  private final double peakQps;
  private final double smoothing;
  private final long levelWindowMs;
  private final double levelMin;
  private final double levelMax;

  private long hour = Long.MIN_VALUE;
  private double hourSum;
  private int hourSamples;
  private Instant hourFirst;
  private Instant hourLast;

  private double recent = Double.NaN;
  /** What the profile expected over the same window: the level compares like with like. */
  private double expectedRecent = Double.NaN;
  private Instant recentSince;
  private Instant last;

  public HourOfWeekForecast(AutoscalingConfig config) {
    for (Map.Entry<String, Double> entry : config.timeOfDay().entrySet()) {
      String[] hm = entry.getKey().split(":");
      schedule.put(Integer.parseInt(hm[0]) * 60 + Integer.parseInt(hm[1]), entry.getValue());
    }
    AutoscalingConfig.Forecast forecast = config.forecast();
    this.peakQps = forecast.peakQps();
    this.smoothing = forecast.smoothing();
    this.levelWindowMs = forecast.levelWindowMs();
    this.levelMin = forecast.levelMin();
    this.levelMax = forecast.levelMax();
  }

  @Override
  public void observe(Instant time, double arrivalsPerSecond) {
    if (!Double.isFinite(arrivalsPerSecond) || arrivalsPerSecond < 0 || (last != null && time.isBefore(last))) {
      return;
    }
    long epochHour = Math.floorDiv(time.getEpochSecond(), 3600);
    if (epochHour != hour) {
      foldHour();
      hour = epochHour;
      hourSum = 0;
      hourSamples = 0;
      hourFirst = time;
    }
    hourSum += arrivalsPerSecond;
    hourSamples++;
    hourLast = time;

    double expectedNow = expected(time);
    if (Double.isNaN(recent)) {
      recent = arrivalsPerSecond;
      expectedRecent = expectedNow;
      recentSince = time;
    } else {
      double weight = 1 - Math.exp(-Duration.between(last, time).toMillis() / (double) levelWindowMs);
      recent += weight * (arrivalsPerSecond - recent);
      expectedRecent += weight * (expectedNow - expectedRecent);
    }
    last = time;
  }

  /** A finished hour enters its slot, if it was watched for at least half of it. */
  private void foldHour() {
    if (hourSamples == 0 || Duration.between(hourFirst, hourLast).toMinutes() < 30) {
      return;
    }
    int slot = slotOf(Instant.ofEpochSecond(hour * 3600));
    double mean = hourSum / hourSamples;
    beforeFold[slot] = profile[slot];
    foldedAt[slot] = (hour + 1) * 3600;
    profile[slot] = seen[slot] == 0 ? mean : smoothing * mean + (1 - smoothing) * profile[slot];
    seen[slot]++;
  }

  @Override
  public Prediction predict(Instant now, Duration horizon) {
    double level = level(now);
    double best = -1;
    String source = SOURCE_SCHEDULE;
    Instant end = now.plus(horizon);
    for (Instant t = now; !t.isAfter(end); t = t.plus(SAMPLE_STEP)) {
      boolean learned = seen[slotOf(t)] > 0;
      double expected = expected(t);
      if (expected > best) {
        best = expected;
        source = learned ? SOURCE_LEARNED : SOURCE_SCHEDULE;
      }
    }
    return new Prediction(best * level, source, Double.isNaN(recent) ? 0 : recent, level);
  }

  /**
   * What the profile (or schedule) expects for this moment, unscaled: a learned slot's mean at
   * the middle of its hour, the line towards the neighbouring slot's middle elsewhere (the slot's
   * own mean when that neighbour was never learned before today).
   */
  public double expected(Instant t) {
    int slot = slotOf(t);
    if (seen[slot] == 0) {
      return scheduled(t);
    }
    long intoHour = Math.floorMod(t.getEpochSecond(), 3600L);
    int neighbour = Math.floorMod(slot + (intoHour < 1800 ? -1 : 1), SLOTS);
    double usual = usual(neighbour, t);
    if (Double.isNaN(usual)) {
      return profile[slot];
    }
    double weight = Math.abs(intoHour - 1800) / 3600.0;
    return (1 - weight) * profile[slot] + weight * usual;
  }

  /**
   * A neighbouring slot as it stood before the last day's traffic entered it (NaN: not learned
   * then). The hour just past is folded in at the full hour; read as it is then, today's traffic
   * would count twice, in the profile and again in the level.
   */
  private double usual(int slot, Instant t) {
    long since = t.getEpochSecond() - foldedAt[slot];
    boolean today = seen[slot] > 0 && since >= 0 && since < 86_400;
    if (!today) {
      return seen[slot] > 0 ? profile[slot] : Double.NaN;
    }
    return seen[slot] > 1 ? beforeFold[slot] : Double.NaN;
  }

  /** How many weeks the slot of {@code t} has seen. */
  public int weeksSeen(Instant t) {
    return seen[slotOf(t)];
  }

  /**
   * Recent arrivals over what the profile expected for the same moments (both smoothed alike),
   * once watched for a third of the level window.
   */
  double level(Instant now) {
    if (Double.isNaN(recent) || Duration.between(recentSince, now).toMillis() < levelWindowMs / 3) {
      return 1.0;
    }
    if (expectedRecent <= 1e-9) {
      return recent > 1e-9 ? levelMax : 1.0;
    }
    return Math.max(levelMin, Math.min(levelMax, recent / expectedRecent));
  }

  /** The time-of-day schedule: the share from the latest HH:MM at or before t (wrapping), times the peak. */
  double scheduled(Instant t) {
    if (schedule.isEmpty()) {
      return peakQps;
    }
    ZonedDateTime utc = t.atZone(ZoneOffset.UTC);
    Map.Entry<Integer, Double> entry = schedule.floorEntry(utc.getHour() * 60 + utc.getMinute());
    return (entry == null ? schedule.lastEntry() : entry).getValue() * peakQps;
  }

  static int slotOf(Instant t) {
    ZonedDateTime utc = t.atZone(ZoneOffset.UTC);
    return (utc.getDayOfWeek().getValue() - 1) * 24 + utc.getHour();
  }
}
