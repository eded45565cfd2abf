package dev.genmesh.region.queue;

import dev.genmesh.config.QueueConfig;
import dev.genmesh.protocol.FailureType;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What happens to a request whose attempt ended without a result (docs/architecture.md, I4):
 * retry with {@code retry_count + 1}, priority {@code + retry_priority_boost} and a backoff of
 * {@code min(backoff_cap, 2^retry_count s)} (the new count: 2 s, 4 s, 8 s...), or, once
 * {@code max_retries} retries are used up, fail with the last error. Pure; time from the clock.
 */
public final class RetryPolicy {
  public static final String HINT_LARGER_VRAM = "larger_vram";
  public static final String HINT_DIFFERENT_WORKER = "different_worker";

  public enum Action { RETRY, FAIL, NONE }

  /**
   * @param code the error to record (the failure type, or {@code lease_lost})
   * @param retryCount the count after this decision
   * @param minVramMb larger_vram: the next worker needs more free memory than this (null: no change)
   * @param excludeWorker different_worker: this worker must not get it again (null: none)
   */
  public record Decision(Action action, String code, String message, int retryCount, int priorityBoost,
      Instant notBefore, boolean batchOfOne, Long minVramMb, String excludeWorker) {

    public List<String> hints() {
      List<String> hints = new ArrayList<>(2);
      if (action == Action.RETRY && (batchOfOne || minVramMb != null)) {
        hints.add(HINT_LARGER_VRAM);
      }
      if (excludeWorker != null) {
        hints.add(HINT_DIFFERENT_WORKER);
      }
      return hints;
    }
  }

  private final int maxRetries;
  private final int priorityBoost;
  private final long backoffCapMs;
  private final Clock clock;

  public RetryPolicy(QueueConfig queue, Clock clock) {
    this.maxRetries = queue.maxRetries();
    this.priorityBoost = queue.retryPriorityBoost();
    this.backoffCapMs = queue.backoffCapMs();
    this.clock = clock;
  }

  /** {@code min(backoff_cap, 2^retryCount s)} for the retry numbered {@code retryCount} (1, 2, ...). */
  public Duration backoff(int retryCount) {
    long ms = retryCount >= 40 ? Long.MAX_VALUE : (1L << Math.max(0, retryCount)) * 1000L;
    return Duration.ofMillis(Math.min(backoffCapMs, ms));
  }

  /** The lease lapsed: the worker died, hung, or lost contact. */
  public Decision leaseLost(int retryCount) {
    return decide(retryCount, FailureType.LEASE_LOST, "the worker's lease lapsed", false, null, null);
  }

  /** The worker running it left the cluster or stopped heartbeating: retried on another worker. */
  public Decision workerLost(int retryCount, String workerId, String why) {
    return decide(retryCount, FailureType.WORKER_LOST, why, false, null, workerId);
  }

  /**
   * A worker reported a failure of the current attempt.
   *
   * @param workerFreeVramMb the free memory the worker claimed with (null or 0: unknown)
   */
  public Decision failed(int retryCount, String failureType, String message, String workerId, Long workerFreeVramMb) {
    String type = failureType == null || failureType.isBlank() ? FailureType.ERROR : failureType;
    return switch (type) {
      case FailureType.CANCELLED -> new Decision(Action.NONE, type, message, retryCount, 0, null, false, null, null);
      // Handed back by a draining worker: the request did nothing wrong; back in its queue now,
      // boosted, without using up a retry.
      case FailureType.DRAINED -> new Decision(Action.RETRY, type, message, retryCount, priorityBoost, clock.instant(),
          false, null, null);
      case FailureType.OOM -> decide(retryCount, type, message, true,
          workerFreeVramMb != null && workerFreeVramMb > 0 ? workerFreeVramMb : null, null);
      // The model would not load (or verify) on that worker: another worker may have a good copy.
      case FailureType.MODEL_CORRUPTED, FailureType.MODEL_LOAD_FAILED -> decide(retryCount, type, message, false, null,
          workerId);
      default -> decide(retryCount, type, message, false, null, null);
    };
  }

  private Decision decide(int retryCount, String code, String message, boolean batchOfOne, Long minVramMb,
      String excludeWorker) {
    if (retryCount >= maxRetries) {
      return new Decision(Action.FAIL, code, message, retryCount, 0, null, false, null, null);
    }
    int next = retryCount + 1;
    return new Decision(Action.RETRY, code, message, next, priorityBoost, clock.instant().plus(backoff(next)),
        batchOfOne, minVramMb, excludeWorker);
  }
}
