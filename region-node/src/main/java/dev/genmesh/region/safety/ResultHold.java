package dev.genmesh.region.safety;

import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.RequestRow;
import io.vertx.core.Future;

/**
 * Whether a finished request may be published now (docs/architecture.md, "Held results"): a region
 * that may be adopted by its peer without the peer knowing of this completion (fenced, or its sync
 * replication degraded) keeps the result in its log, unpublished, until it learns whether it was
 * adopted. The failover package decides; the gate asks before and after each verdict it commits.
 */
public interface ResultHold {
  /** Never holds (failover off, or a test of the gate alone). */
  ResultHold NEVER = new ResultHold() {
    @Override
    public String reason() {
      return null;
    }

    @Override
    public Future<Void> hold(RequestRow row, String reason, RequestLog.Change committed) {
      return Future.succeededFuture();
    }
  };

  /** Why a result may not be published now; null when it may. */
  String reason();

  /**
   * Records that {@code row}'s result is held: its row waits in SAFETY_PENDING with its images
   * ({@code committed} null), or its verdict was committed while the hold began and its event is
   * not published ({@code committed} the change). Counted and logged once with the request id.
   */
  Future<Void> hold(RequestRow row, String reason, RequestLog.Change committed);
}
