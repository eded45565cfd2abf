package dev.genmesh.inference.impl;

/**
 * What a worker's failures say about the worker itself: the largest batch it still dares to run
 * after OOMs, and whether device errors have become persistent (or the device is missing). Pure;
 * changed on the event loop, {@link #live()} and {@link #notLiveReason()} read from any thread
 * (the HTTP probes).
 */
public final class WorkerHealth {

  private final int maxConsecutiveGpuErrors;
  private int maxBatchImages;
  private int consecutiveGpuErrors;
  private volatile boolean live = true;
  private volatile String notLiveReason = "";

  public WorkerHealth(int maxBatchImages, int maxConsecutiveGpuErrors) {
    if (maxBatchImages < 1 || maxConsecutiveGpuErrors < 1) {
      throw new IllegalArgumentException("limits must be at least 1");
    }
    this.maxBatchImages = maxBatchImages;
    this.maxConsecutiveGpuErrors = maxConsecutiveGpuErrors;
  }

  /** A run finished: device errors are no longer "in a row". */
  public void onSuccess() {
    consecutiveGpuErrors = 0;
  }

  /** Out of memory with {@code images} in the batch: the next batches stay below that. */
  public void onOom(int images) {
    maxBatchImages = Math.max(1, Math.min(maxBatchImages, images) / 2);
  }

  /**
   * A device error (of a run, a session restart or a warm-up).
   *
   * @return true if the worker is still live and should restart its session
   */
  public boolean onGpuError() {
    consecutiveGpuErrors++;
    if (consecutiveGpuErrors >= maxConsecutiveGpuErrors && live) {
      giveUp(consecutiveGpuErrors + " device errors in a row");
    }
    return live;
  }

  /** The worker cannot serve any more (its models would not load again, its device is missing). */
  public void giveUp(String reason) {
    if (live) {
      notLiveReason = reason;
      live = false;
    }
  }

  public int maxBatchImages() {
    return maxBatchImages;
  }

  public int consecutiveGpuErrors() {
    return consecutiveGpuErrors;
  }

  public boolean live() {
    return live;
  }

  /** Why the worker gave up; empty while it is live. */
  public String notLiveReason() {
    return notLiveReason;
  }
}
