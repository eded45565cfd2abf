package dev.genmesh.region.requests.impl;

import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.requests.ProgressHub;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.RequestRow;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A user's cancel: the log first (any non-terminal status → CANCELLED, with its event), then
 * Redis (out of its queue or the delayed set, lease deleted), then, if a worker ran it, the
 * cancel message that makes the worker stop at its next step. The worker's late result or
 * failure is then a stale attempt for the compare-and-set (docs/architecture.md, I3).
 */
public final class Cancellations {
  private static final Logger LOG = LoggerFactory.getLogger(Cancellations.class);

  /** How a cancel ended: the row, and whether this call cancelled it (false: it had already ended). */
  public record Outcome(RequestRow row, boolean cancelled) {}

  private final Vertx vertx;
  private final String region;
  private final RequestLog log;
  private final TierQueue queue;
  private final ProgressHub hub;
  private final RegionMetrics metrics;

  public Cancellations(RegionContext ctx) {
    this.vertx = ctx.vertx();
    this.region = ctx.region();
    this.log = ctx.log();
    this.queue = ctx.queue();
    this.hub = ctx.hub();
    this.metrics = ctx.metrics();
  }

  /** Empty for an unknown id. */
  public Future<Optional<Outcome>> cancel(String id) {
    return log.cancel(id).compose(cancelled -> {
      if (cancelled.isEmpty()) {
        return log.find(id).map(row -> row.map(r -> new Outcome(r, false)));
      }
      RequestLog.Change change = cancelled.get().change();
      RequestRow row = change.row();
      RequestStatus previous = cancelled.get().previous();
      hub.publish(change.event());
      metrics.request(row.tier(), RequestStatus.CANCELLED);
      if (previous == RequestStatus.ASSIGNED || previous == RequestStatus.GENERATING
          || previous == RequestStatus.SAFETY_PENDING) {
        vertx.eventBus().publish(Addresses.cancel(region), new JsonObject().put("request_id", id));
      }
      LOG.info("[{}] cancelled ({} before)", id, previous.wireName());
      // A Redis miss here is harmless: a claim drops an id whose row is no longer QUEUED.
      return queue.remove(id, row.tier())
          .otherwise(err -> {
            LOG.debug("[{}] cancelled, but not removed from Redis: {}", id, err.toString());
            return false;
          })
          .map(removed -> Optional.of(new Outcome(row, true)));
    });
  }
}
