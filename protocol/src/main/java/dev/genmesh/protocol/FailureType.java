package dev.genmesh.protocol;

/**
 * The {@code failure_type} values of {@link WorkerMessages.Failure}, and the error codes the
 * region stores for a request that failed or is being retried.
 */
public final class FailureType {
  private FailureType() {}

  /** Out of memory: retried with {@code batch_size = 1} on a worker with more free VRAM. */
  public static final String OOM = "oom";
  /** The model files failed their checks: retried on a different worker. */
  public static final String MODEL_CORRUPTED = "model_corrupted";
  /**
   * The worker lists the model but could not load it (its bundle stays corrupted with no good
   * version to fall back to, the registry does not answer, TensorFlow refuses it): retried on a
   * different worker, like {@link #MODEL_CORRUPTED}.
   */
  public static final String MODEL_LOAD_FAILED = "model_load_failed";
  public static final String GPU_ERROR = "gpu_error";
  public static final String ERROR = "error";
  /** The worker stopped because the request was cancelled (or the worker is shutting down). */
  public static final String CANCELLED = "cancelled";
  /**
   * The worker was draining (scale-down) and its drain deadline passed: it stopped the request at
   * a step and hands it back. Re-queued at once with the priority boost; not a retry (the retry
   * count stays) and no failure for the circuit breakers.
   */
  public static final String DRAINED = "drained";
  /** Set by the region, never by a worker: the lease lapsed (worker died, hung or lost contact). */
  public static final String LEASE_LOST = "lease_lost";
  /**
   * Set by the region, never by a worker: the worker running the attempt left the cluster or
   * stopped heartbeating; retried on another worker.
   */
  public static final String WORKER_LOST = "worker_lost";
}
