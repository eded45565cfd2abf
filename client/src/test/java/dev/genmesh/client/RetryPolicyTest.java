package dev.genmesh.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.client.impl.RetryPolicy;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
  private final ClientOptions options = ClientOptions.of("http://127.0.0.1:8080", null)
      .withRetries(4, Duration.ofMillis(200), Duration.ofSeconds(5));

  private static GenmeshException answer(int status, String code, Long retryAfter) {
    return new GenmeshException(status, code, code, null, retryAfter, null);
  }

  @Test
  void onlyNoAnswerRateLimitAndUnavailableAreRetriedAndOnlyWhileAttemptsRemain() {
    RetryPolicy policy = new RetryPolicy(options, () -> 0.5);
    assertThat(policy.shouldRetry(1, answer(0, GenmeshException.UNREACHABLE, null))).isTrue();
    assertThat(policy.shouldRetry(1, answer(429, "rate_limited", 1L))).isTrue();
    assertThat(policy.shouldRetry(3, answer(503, "region_unavailable", 2L))).isTrue();
    assertThat(policy.shouldRetry(4, answer(503, "region_unavailable", 2L))).as("4 attempts made of 4").isFalse();
    for (int status : new int[] {400, 401, 403, 404, 409, 413, 422, 500}) {
      assertThat(policy.shouldRetry(1, answer(status, "x", null))).as("HTTP " + status).isFalse();
    }
  }

  @Test
  void theEdgesRetryAfterWinsUpToTheCap() {
    RetryPolicy policy = new RetryPolicy(options, () -> 0.0);
    assertThat(policy.delayMs(1, answer(429, "rate_limited", 2L))).isEqualTo(2_000);
    assertThat(policy.delayMs(1, answer(503, "overloaded", 60L))).isEqualTo(5_000);
  }

  @Test
  void withoutRetryAfterTheWaitDoublesWithJitterUpToTheCap() {
    RetryPolicy low = new RetryPolicy(options, () -> 0.0);
    RetryPolicy high = new RetryPolicy(options, () -> 0.999_999);
    assertThat(low.backoffMs(1)).isEqualTo(100);
    assertThat(high.backoffMs(1)).isBetween(199L, 200L);
    assertThat(low.backoffMs(3)).isEqualTo(400);
    assertThat(high.backoffMs(3)).isBetween(799L, 800L);
    assertThat(high.backoffMs(20)).isBetween(4_999L, 5_000L);
    assertThat(low.delayMs(2, answer(0, GenmeshException.UNREACHABLE, null))).isEqualTo(200);
  }
}
