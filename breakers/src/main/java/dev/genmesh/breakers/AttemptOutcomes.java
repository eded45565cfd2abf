package dev.genmesh.breakers;

/**
 * How an attempt of a request ended, as far as the circuit breakers care. Only outcomes of the
 * current attempt are reported (stale duplicates are not evidence twice). The model and worker
 * breakers count every attempt; the region's global breaker counts requests, by how they end: a
 * failed attempt that is retried is not (yet) a failure of the region's service
 * (docs/architecture.md, "Circuit breakers").
 */
public interface AttemptOutcomes {

  /** Reports nothing (for code paths without breakers). */
  AttemptOutcomes NONE = new AttemptOutcomes() {
    @Override
    public void succeeded(String requestId, String model, String workerId) {}

    @Override
    public void failed(String requestId, String model, String workerId, String failureType, boolean retried) {}
  };

  /** The worker handed in a current result. */
  void succeeded(String requestId, String model, String workerId);

  /**
   * The attempt failed on the worker ({@code failureType} as reported), or its lease lapsed
   * ({@code lease_lost}), or its worker was lost for good ({@code worker_lost}); {@code cancelled}
   * counts as nothing.
   *
   * @param retried the request goes back to its queue for another attempt; false when it failed for good
   */
  void failed(String requestId, String model, String workerId, String failureType, boolean retried);
}
