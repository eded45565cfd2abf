package dev.genmesh.inference.impl;

import java.util.function.LongSupplier;

/**
 * Notices a TensorFlow batch that stopped making progress (a wedged device or driver): the
 * worker's event loop, heartbeats and leases stay healthy then, so nothing else would. A batch
 * is stalled when it has run {@link #MIN_STALL_MS} or {@link #STEP_FACTOR} times its slowest
 * step so far (whichever is longer) without a step. Safe from any thread.
 */
public final class StepWatchdog {
  /** Never stalled before this: the first step of a batch may include a cold graph. */
  static final long MIN_STALL_MS = 120_000;
  static final long STEP_FACTOR = 20;

  private final LongSupplier nanos;
  private volatile long batchSince = -1;
  private volatile long lastProgress;
  private volatile long slowestStepNanos;

  public StepWatchdog(LongSupplier nanos) {
    this.nanos = nanos;
  }

  public void batchStarted() {
    long now = nanos.getAsLong();
    lastProgress = now;
    batchSince = now;
  }

  /** A step of the running batch ended. */
  public void stepped() {
    long now = nanos.getAsLong();
    slowestStepNanos = Math.max(slowestStepNanos, now - lastProgress);
    lastProgress = now;
  }

  public void batchEnded() {
    batchSince = -1;
  }

  /** How long the running batch has gone without a step (ms), 0 when none runs. */
  public long silentMs() {
    return batchSince < 0 ? 0 : (nanos.getAsLong() - lastProgress) / 1_000_000;
  }

  /** The silence after which a running batch counts as stalled (ms). */
  public long limitMs() {
    return Math.max(MIN_STALL_MS, STEP_FACTOR * slowestStepNanos / 1_000_000);
  }

  public boolean stalled() {
    return silentMs() > limitMs();
  }
}
