package dev.genmesh.region.integration;

import dev.genmesh.region.node.RegionContext;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;

/**
 * What internal services get from a region node (docs/event-bus.md): usage events on
 * {@code genmesh.usage}, always, and the TCP event-bus bridge when {@code bridge.enabled}.
 */
public final class RegionIntegration {
  private final RegionContext ctx;
  private final UsageEvents usage;
  private RegionBridge bridge;

  public RegionIntegration(RegionContext ctx, Pool pool) {
    this.ctx = ctx;
    this.usage = new UsageEvents(ctx, pool);
  }

  public Future<Void> start() {
    usage.start();
    if (!ctx.config().bridge().enabled()) {
      return Future.succeededFuture();
    }
    bridge = new RegionBridge(ctx);
    return bridge.start().mapEmpty();
  }

  public Future<Void> stop() {
    usage.stop();
    return bridge == null ? Future.succeededFuture() : bridge.stop();
  }
}
