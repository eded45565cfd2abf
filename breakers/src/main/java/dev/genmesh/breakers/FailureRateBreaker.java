package dev.genmesh.breakers;

import dev.genmesh.config.BreakerConfig;
import dev.genmesh.protocol.Tier;
import java.time.Clock;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;

/**
 * The region's global breaker (region-node/API.md, "Circuit breakers"): the failure rate of
 * request outcomes (completed, or failed for good: {@link FailureScope#countsForRegion}) over
 * {@code window_ms}, in {@value #BUCKETS} time buckets. Above
 * {@code failure_rate} (with at least {@code min_outcomes}) it sheds relax submits, above twice
 * that fast ones too, never turbo; no half-open state, since turbo and queued work keep measuring
 * the rate. It stays open at least {@code retry_after_ms}, which bounds flapping near the threshold.
 * Pure and not thread-safe (the {@link Breakers} board locks); time comes from the clock.
 */
public final class FailureRateBreaker {
  static final int BUCKETS = 20;

  /** Told of each change, synchronously. */
  public interface Listener {
    void changed(BreakerState from, BreakerState to, String reason);

    void shedding(Set<Tier> tiers, double failureRate);
  }

  private final double threshold;
  private final int minOutcomes;
  private final long holdMs;
  private final long bucketMs;
  private final Clock clock;
  private final Listener listener;
  private final long[] bucketIds = new long[BUCKETS];
  private final long[] successes = new long[BUCKETS];
  private final long[] failures = new long[BUCKETS];

  private BreakerState state = BreakerState.CLOSED;
  private EnumSet<Tier> shed = EnumSet.noneOf(Tier.class);
  private long openedAtMs;
  private long fastSinceMs;

  public FailureRateBreaker(BreakerConfig.GlobalBreaker settings, Clock clock, Listener listener) {
    this.threshold = settings.failureRate();
    this.minOutcomes = settings.minOutcomes();
    this.holdMs = settings.retryAfterMs();
    this.bucketMs = Math.max(1, settings.windowMs() / BUCKETS);
    this.clock = clock;
    this.listener = listener;
    Arrays.fill(bucketIds, Long.MIN_VALUE);
  }

  public void record(boolean failed) {
    long id = clock.millis() / bucketMs;
    int slot = (int) Math.floorMod(id, (long) BUCKETS);
    if (bucketIds[slot] != id) {
      bucketIds[slot] = id;
      successes[slot] = 0;
      failures[slot] = 0;
    }
    if (failed) {
      failures[slot]++;
    } else {
      successes[slot]++;
    }
    evaluate();
  }

  public BreakerState state() {
    evaluate();
    return state;
  }

  /** The tiers shed now: none, relax, or relax and fast. */
  public Set<Tier> shedTiers() {
    evaluate();
    return EnumSet.copyOf(shed);
  }

  /** Outcomes in the window now. */
  public long outcomes() {
    long[] counts = window();
    return counts[0] + counts[1];
  }

  /** Failed share of the outcomes in the window now (0 when there are none). */
  public double failureRate() {
    long[] counts = window();
    long total = counts[0] + counts[1];
    return total == 0 ? 0 : counts[1] / (double) total;
  }

  /** {successes, failures} of the buckets still inside the window. */
  private long[] window() {
    long current = clock.millis() / bucketMs;
    long ok = 0;
    long bad = 0;
    for (int i = 0; i < BUCKETS; i++) {
      if (bucketIds[i] > current - BUCKETS && bucketIds[i] <= current) {
        ok += successes[i];
        bad += failures[i];
      }
    }
    return new long[] {ok, bad};
  }

  private void evaluate() {
    long now = clock.millis();
    long[] counts = window();
    long total = counts[0] + counts[1];
    double rate = total == 0 ? 0 : counts[1] / (double) total;
    boolean over = total >= minOutcomes && rate > threshold;
    if (state == BreakerState.CLOSED && over) {
      state = BreakerState.OPEN;
      openedAtMs = now;
      listener.changed(BreakerState.CLOSED, BreakerState.OPEN, describe(counts[1], total, rate));
    } else if (state == BreakerState.OPEN && !over && now - openedAtMs >= holdMs) {
      state = BreakerState.CLOSED;
      listener.changed(BreakerState.OPEN, BreakerState.CLOSED, describe(counts[1], total, rate));
    }
    EnumSet<Tier> next = EnumSet.noneOf(Tier.class);
    if (state == BreakerState.OPEN) {
      next.add(Tier.RELAX);
      boolean severe = total >= minOutcomes && rate > 2 * threshold;
      if (severe) {
        fastSinceMs = now;
      }
      if (severe || (shed.contains(Tier.FAST) && now - fastSinceMs < holdMs)) {
        next.add(Tier.FAST);
      }
    }
    if (!next.equals(shed)) {
      shed = next;
      listener.shedding(EnumSet.copyOf(next), rate);
    }
  }

  private String describe(long failed, long total, double rate) {
    return String.format(java.util.Locale.ROOT, "%d of %d attempts failed in the window (%.1f%%, threshold %.1f%%)",
        failed, total, rate * 100, threshold * 100);
  }
}
