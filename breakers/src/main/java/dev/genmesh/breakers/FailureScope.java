package dev.genmesh.breakers;

import dev.genmesh.protocol.FailureType;

/**
 * Which breakers a failure counts against: {@code cancelled} and {@code drained} are no failures;
 * {@code oom} (the worker lacked memory, the model is fine) and {@code worker_lost} (its process
 * died or hung) count against the worker; everything else, unknown types included, against the
 * model and the worker. The global rate counts a failure only when the request failed for good
 * (not when it is retried), whatever its type.
 */
public final class FailureScope {
  private FailureScope() {}

  public static boolean isFailure(String failureType) {
    return !FailureType.CANCELLED.equals(failureType) && !FailureType.DRAINED.equals(failureType);
  }

  public static boolean countsForModel(String failureType) {
    return isFailure(failureType) && !FailureType.OOM.equals(failureType)
        && !FailureType.WORKER_LOST.equals(failureType);
  }

  public static boolean countsForWorker(String failureType) {
    return isFailure(failureType);
  }

  /** For the global breaker: a request that failed for good; a retried attempt is the worker's and model's business. */
  public static boolean countsForRegion(String failureType, boolean retried) {
    return isFailure(failureType) && !retried;
  }
}
