package dev.genmesh.region.node;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.requests.ProgressHub;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.scheduler.IdleWorkers;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.time.Clock;

/**
 * What most parts of a region node share, built once when the node starts.
 *
 * @param region the region's name (a key of {@code config.regions()})
 * @param io the node's named pool for blocking work (disk, large decodes); never the event loop
 * @param clock the time of the queue policies (retry backoff, routing hold, ETA, safety waits)
 * @param idle how new work reaches idle workers (one waiting claim woken per request)
 */
public record RegionContext(Vertx vertx, String region, GenmeshConfig config, RequestLog log, TierQueue queue,
    ProgressHub hub, RegionMetrics metrics, MeterRegistry meters, WorkerExecutor io, Clock clock, IdleWorkers idle) {

  public RegionConfig regionConfig() {
    return config.region(region);
  }
}
