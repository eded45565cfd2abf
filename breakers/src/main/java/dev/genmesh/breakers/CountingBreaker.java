package dev.genmesh.breakers;

import dev.genmesh.config.BreakerConfig;
import java.time.Clock;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A consecutive-failure breaker (one per model, one per worker). Closed: {@code failures}
 * failures in a row open it. Open: nothing passes for {@code open_ms}. Half-open: at most
 * {@code half_open_permits} trial requests run at a time; {@code successes} successes close it,
 * one failure opens it again.
 *
 * <p>Pure and not thread-safe (the {@link Breakers} board locks); time comes from the clock and
 * the open → half-open change happens when the breaker is next looked at.
 */
public final class CountingBreaker {

  /** Told of each state change, synchronously. */
  @FunctionalInterface
  public interface Listener {
    void changed(BreakerState from, BreakerState to, String reason);
  }

  /**
   * Leave to send one request through. Closed breakers hand out {@link #FREE}, which accounts
   * nothing; a half-open breaker's permit holds one of its trial slots until it is released, its
   * request reports an outcome, or {@code open_ms} passes (a trial that never reports must not
   * block the breaker for ever).
   */
  public static final class Permit {
    private final CountingBreaker owner;
    private final long acquiredAtMs;
    private String requestId;

    private Permit(CountingBreaker owner, long acquiredAtMs) {
      this.owner = owner;
      this.acquiredAtMs = acquiredAtMs;
    }

    /** The request that runs as this trial: its outcome releases the permit. */
    public void bind(String id) {
      if (owner != null && owner.trials.containsKey(this)) {
        requestId = id;
        owner.boundTrials.put(id, this);
      }
    }

    /** Gives the slot back without an outcome (the claim took something else, or nothing). */
    public void release() {
      if (owner != null) {
        owner.drop(this);
      }
    }
  }

  /** The permit of a closed breaker. */
  public static final Permit FREE = new Permit(null, 0);

  private final int failuresToOpen;
  private final int successesToClose;
  private final long openMs;
  private final int trialPermits;
  private final Clock clock;
  private final Listener listener;

  private BreakerState state = BreakerState.CLOSED;
  private int failuresInARow;
  private int trialSuccesses;
  private long openedAtMs;
  private final Map<Permit, Long> trials = new LinkedHashMap<>();
  private final Map<String, Permit> boundTrials = new HashMap<>();

  public CountingBreaker(BreakerConfig.Breaker settings, Clock clock, Listener listener) {
    this.failuresToOpen = settings.failures();
    this.successesToClose = settings.successes();
    this.openMs = settings.openMs();
    this.trialPermits = settings.halfOpenPermits();
    this.clock = clock;
    this.listener = listener;
  }

  /** The state now (an open breaker whose time is up turns half-open here). */
  public BreakerState state() {
    advance();
    return state;
  }

  /** Trial requests running now (half-open only). */
  public int trialsRunning() {
    advance();
    expireTrials();
    return trials.size();
  }

  /** Failures in a row so far while closed. */
  public int failuresInARow() {
    return failuresInARow;
  }

  /** Closed with no failure counted: the same as a new breaker, so the board may forget it. */
  public boolean isPristine() {
    return state() == BreakerState.CLOSED && failuresInARow == 0;
  }

  /** Leave for one request: {@link #FREE} when closed, a trial permit when half-open with room, else null. */
  public Permit tryAcquire() {
    advance();
    switch (state) {
      case CLOSED:
        return FREE;
      case OPEN:
        return null;
      default:
        expireTrials();
        if (trials.size() >= trialPermits) {
          return null;
        }
        Permit permit = new Permit(this, clock.millis());
        trials.put(permit, permit.acquiredAtMs);
        return permit;
    }
  }

  /** A request through this breaker succeeded. */
  public void onSuccess(String requestId) {
    advance();
    releaseTrial(requestId);
    if (state == BreakerState.CLOSED) {
      failuresInARow = 0;
    } else if (state == BreakerState.HALF_OPEN && ++trialSuccesses >= successesToClose) {
      moveTo(BreakerState.CLOSED, trialSuccesses + " successful trial(s) while half-open");
    }
  }

  /** A request through this breaker failed; {@code why} names the failure for the log. */
  public void onFailure(String requestId, String why) {
    advance();
    releaseTrial(requestId);
    if (state == BreakerState.CLOSED) {
      if (++failuresInARow >= failuresToOpen) {
        moveTo(BreakerState.OPEN, failuresInARow + " failure(s) in a row, the last: " + why);
      }
    } else if (state == BreakerState.HALF_OPEN) {
      moveTo(BreakerState.OPEN, "a trial failed while half-open: " + why);
    }
  }

  /** The request ended without an outcome that says anything (cancelled): its trial slot is free again. */
  public void onNeither(String requestId) {
    releaseTrial(requestId);
  }

  private void advance() {
    if (state == BreakerState.OPEN && clock.millis() - openedAtMs >= openMs) {
      moveTo(BreakerState.HALF_OPEN, "open for " + openMs + " ms");
    }
  }

  private void moveTo(BreakerState to, String reason) {
    BreakerState from = state;
    state = to;
    failuresInARow = 0;
    trialSuccesses = 0;
    trials.clear();
    boundTrials.clear();
    if (to == BreakerState.OPEN) {
      openedAtMs = clock.millis();
    }
    listener.changed(from, to, reason);
  }

  private void expireTrials() {
    long now = clock.millis();
    for (Iterator<Map.Entry<Permit, Long>> it = trials.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Permit, Long> trial = it.next();
      if (now - trial.getValue() >= openMs) {
        it.remove();
        if (trial.getKey().requestId != null) {
          boundTrials.remove(trial.getKey().requestId);
        }
      }
    }
  }

  private void releaseTrial(String requestId) {
    Permit permit = requestId == null ? null : boundTrials.get(requestId);
    if (permit != null) {
      drop(permit);
    }
  }

  private void drop(Permit permit) {
    trials.remove(permit);
    if (permit.requestId != null) {
      boundTrials.remove(permit.requestId, permit);
    }
  }
}
