package dev.genmesh.breakers;

/**
 * How an attempt of a request ended, as far as the circuit breakers care. Only outcomes of the
 * current attempt are reported (stale duplicates are not evidence twice).
 */
public interface AttemptOutcomes {

  /** Reports nothing (for code paths without breakers). */
  AttemptOutcomes NONE = new AttemptOutcomes() {
    @Override
    public void succeeded(String requestId, String model, String workerId) {}

    @Override
    public void failed(String requestId, String model, String workerId, String failureType) {}
  };

  /** The worker handed in a current result. */
  void succeeded(String requestId, String model, String workerId);

  /**
   * The attempt failed on the worker ({@code failureType} as reported), or its lease lapsed
   * ({@code lease_lost}); {@code cancelled} counts as nothing.
   */
  void failed(String requestId, String model, String workerId, String failureType);
}
