package dev.genmesh.region.api.impl;

import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.region.scheduler.EtaEstimator;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.OptionalLong;

/**
 * A request's {@link RequestView}; a QUEUED one gets its live position and ETA (null when Redis
 * cannot tell; a retry in its backoff gets no position and an ETA of its remaining wait plus its
 * run time).
 */
public final class LiveView {
  private final String region;
  private final TierQueue queue;
  private final EtaEstimator eta;
  private final Clock clock;

  public LiveView(RegionContext ctx, EtaEstimator eta) {
    this.region = ctx.region();
    this.queue = ctx.queue();
    this.eta = eta;
    this.clock = ctx.clock();
  }

  public Future<JsonObject> of(RequestRow row) {
    if (row.status() != RequestStatus.QUEUED) {
      return Future.succeededFuture(RequestView.of(row, region, null, null));
    }
    GenerationSpec spec = row.generationSpec();
    return queue.place(row.id(), row.tier())
        .map(place -> {
          Long position = null;
          OptionalLong etaMs = OptionalLong.empty();
          if (place.rank() >= 0) {
            position = eta.position(row.tier(), place.rank(), place.depths());
            etaMs = eta.etaMs(spec, position, 0);
          } else if (place.dueMs() != null) {
            etaMs = eta.etaMs(spec, 0, place.dueMs() - clock.millis());
          }
          return RequestView.of(row, region, position, etaMs.isPresent() ? etaMs.getAsLong() : null);
        })
        .otherwise(err -> RequestView.of(row, region, null, null));
  }
}
