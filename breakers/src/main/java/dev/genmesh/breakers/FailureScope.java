package dev.genmesh.breakers;

import dev.genmesh.protocol.FailureType;

/**
 * Which breakers a failure counts against: {@code cancelled} and {@code drained} are no failures;
 * {@code oom} (the worker lacked memory, the model is fine) counts against the worker and the
 * global rate; everything else, unknown types included, against the model, the worker and the
 * global rate.
 */
public final class FailureScope {
  private FailureScope() {}

  public static boolean isFailure(String failureType) {
    return !FailureType.CANCELLED.equals(failureType) && !FailureType.DRAINED.equals(failureType);
  }

  public static boolean countsForModel(String failureType) {
    return isFailure(failureType) && !FailureType.OOM.equals(failureType);
  }

  public static boolean countsForWorker(String failureType) {
    return isFailure(failureType);
  }
}
