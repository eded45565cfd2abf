package dev.genmesh.breakers;

import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.protocol.WorkerMessages.Claim;
import java.util.Map;

/**
 * What the breakers let one worker claim: {@link #claim()} is its claim with the models whose
 * breaker is open (or half-open without a free trial slot) taken out. Settle it once the claim
 * is answered, so that the trial slots it held are bound to the request it got, or given back.
 */
public final class ClaimAdmission {
  private final Breakers board;
  private final Claim claim;
  final CountingBreaker.Permit workerPermit;
  final Map<String, CountingBreaker.Permit> modelPermits;
  private boolean settled;

  ClaimAdmission(Breakers board, Claim claim, CountingBreaker.Permit workerPermit,
      Map<String, CountingBreaker.Permit> modelPermits) {
    this.board = board;
    this.claim = claim;
    this.workerPermit = workerPermit;
    this.modelPermits = modelPermits;
  }

  /** The claim to run: the worker's, with only the models the breakers let through. */
  public Claim claim() {
    return claim;
  }

  /** @param assigned what the claim got; null when it got nothing (or failed) */
  public void settle(Assignment assigned) {
    if (settled) {
      return;
    }
    settled = true;
    board.settle(this, assigned == null ? null : assigned.requestId(), assigned == null ? null : assigned.spec().model());
  }
}
