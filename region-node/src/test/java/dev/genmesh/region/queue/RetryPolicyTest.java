package dev.genmesh.region.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.QueueConfig;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** The retry policy (docs/architecture.md, I4): bounded retries, boost, capped backoff, failure kinds. */
class RetryPolicyTest {
  private static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");
  private final QueueConfig queue = ConfigLoader.defaults().queue();
  private final RetryPolicy policy = new RetryPolicy(queue, Clock.fixed(NOW, ZoneOffset.UTC));

  @Test
  void backoffDoublesFromTwoSecondsAndStopsAtTheCap() {
    assertThat(policy.backoff(1)).isEqualTo(Duration.ofSeconds(2));
    assertThat(policy.backoff(2)).isEqualTo(Duration.ofSeconds(4));
    assertThat(policy.backoff(3)).isEqualTo(Duration.ofSeconds(8));
    assertThat(policy.backoff(4)).isEqualTo(Duration.ofSeconds(16));
    assertThat(policy.backoff(5)).isEqualTo(Duration.ofSeconds(30));
    assertThat(policy.backoff(80)).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void aLostLeaseIsRetriedThreeTimesThenFailsWithLeaseLost() {
    RetryPolicy.Decision first = policy.leaseLost(0);
    assertThat(first.action()).isEqualTo(RetryPolicy.Action.RETRY);
    assertThat(first.retryCount()).isEqualTo(1);
    assertThat(first.priorityBoost()).isEqualTo(50);
    assertThat(first.notBefore()).isEqualTo(NOW.plusSeconds(2));
    assertThat(first.code()).isEqualTo("lease_lost");
    assertThat(first.hints()).isEmpty();

    assertThat(policy.leaseLost(2).notBefore()).isEqualTo(NOW.plusSeconds(8));
    RetryPolicy.Decision last = policy.leaseLost(3);
    assertThat(last.action()).isEqualTo(RetryPolicy.Action.FAIL);
    assertThat(last.retryCount()).isEqualTo(3);
    assertThat(last.code()).isEqualTo("lease_lost");
  }

  @Test
  void oomRetriesWithABatchOfOneOnALargerWorker() {
    RetryPolicy.Decision oom = policy.failed(0, "oom", "CUDA out of memory", "w1", 6000L);
    assertThat(oom.action()).isEqualTo(RetryPolicy.Action.RETRY);
    assertThat(oom.batchOfOne()).isTrue();
    assertThat(oom.minVramMb()).isEqualTo(6000L);
    assertThat(oom.excludeWorker()).isNull();
    assertThat(oom.hints()).containsExactly("larger_vram");
    assertThat(policy.failed(0, "oom", "x", "w1", null).minVramMb()).as("unknown memory: no threshold").isNull();
  }

  @Test
  void modelCorruptionRetriesOnAnotherWorkerAndOtherErrorsJustRetry() {
    RetryPolicy.Decision corrupted = policy.failed(1, "model_corrupted", "checksum mismatch", "w1", 6000L);
    assertThat(corrupted.action()).isEqualTo(RetryPolicy.Action.RETRY);
    assertThat(corrupted.excludeWorker()).isEqualTo("w1");
    assertThat(corrupted.batchOfOne()).isFalse();
    assertThat(corrupted.hints()).containsExactly("different_worker");
    assertThat(corrupted.notBefore()).isEqualTo(NOW.plusSeconds(4));
    RetryPolicy.Decision loadFailed = policy.failed(1, "model_load_failed", "no good version", "w2", 6000L);
    assertThat(loadFailed.action()).isEqualTo(RetryPolicy.Action.RETRY);
    assertThat(loadFailed.code()).isEqualTo("model_load_failed");
    assertThat(loadFailed.excludeWorker()).isEqualTo("w2");
    assertThat(loadFailed.hints()).containsExactly("different_worker");

    for (String type : new String[] {"gpu_error", "error", "something_new", ""}) {
      RetryPolicy.Decision decision = policy.failed(0, type, "boom", "w1", 1L);
      assertThat(decision.action()).as(type).isEqualTo(RetryPolicy.Action.RETRY);
      assertThat(decision.hints()).as(type).isEmpty();
    }
    RetryPolicy.Decision exhausted = policy.failed(3, "gpu_error", "Xid 79", "w1", 1L);
    assertThat(exhausted.action()).isEqualTo(RetryPolicy.Action.FAIL);
    assertThat(exhausted.code()).isEqualTo("gpu_error");
    assertThat(exhausted.message()).isEqualTo("Xid 79");
  }

  @Test
  void aCancelledReportChangesNothing() {
    assertThat(policy.failed(0, "cancelled", "stopped", "w1", 1L).action()).isEqualTo(RetryPolicy.Action.NONE);
  }

  @Test
  void maxRetriesZeroFailsAtOnce() {
    QueueConfig none = new QueueConfig(queue.leaseMs(), 0, 50, 30_000, 0.1, 1000);
    RetryPolicy strict = new RetryPolicy(none, Clock.fixed(NOW, ZoneOffset.UTC));
    assertThat(strict.leaseLost(0).action()).isEqualTo(RetryPolicy.Action.FAIL);
  }

  @Test
  void aDrainedRequestGoesBackAtOnceBoostedWithoutUsingARetryEvenAfterTheLastOne() {
    RetryPolicy.Decision decision = policy.failed(queue.maxRetries(), dev.genmesh.protocol.FailureType.DRAINED,
        "drain deadline", "w-1", null);

    assertThat(decision.action()).isEqualTo(RetryPolicy.Action.RETRY);
    assertThat(decision.retryCount()).isEqualTo(queue.maxRetries());
    assertThat(decision.priorityBoost()).isEqualTo(queue.retryPriorityBoost());
    assertThat(decision.notBefore()).isEqualTo(NOW);
    assertThat(dev.genmesh.breakers.FailureScope.isFailure(dev.genmesh.protocol.FailureType.DRAINED)).isFalse();
  }
}
