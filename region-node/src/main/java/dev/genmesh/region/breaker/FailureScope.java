package dev.genmesh.region.breaker;

import dev.genmesh.protocol.FailureType;

/**
 * Which breakers a failure counts against. {@code cancelled} and {@code drained} (handed back
 * by a draining worker) are no failures. {@code oom} says the
 * worker lacked memory for this request, not that the model is broken: the worker and the
 * global rate only. Everything else ({@code error}, {@code gpu_error}, {@code model_corrupted},
 * {@code lease_lost}, model load failures and types this region does not know) counts against
 * the model, the worker and the global rate.
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
