package dev.genmesh.region.integration;

import dev.genmesh.config.integration.BridgeConfig;
import dev.genmesh.region.node.RegionContext;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.net.NetServerOptions;
import io.vertx.ext.bridge.BridgeEventType;
import io.vertx.ext.bridge.BridgeOptions;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.eventbus.bridge.tcp.BridgeEvent;
import io.vertx.ext.eventbus.bridge.tcp.TcpEventBusBridge;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The region's TCP event-bus bridge (docs/event-bus.md): Vert.x's bridge, 4-byte length + JSON
 * frames, with the allow-lists of {@code bridge.outbound} and {@code bridge.inbound} and nothing
 * else. A frame for any other address gets {@code {"type":"err","message":"access_denied"}}; each
 * refusal is logged once and counted ({@code genmesh_bridge_refused_total}).
 */
public final class RegionBridge {
  private static final Logger LOG = LoggerFactory.getLogger(RegionBridge.class);
  private static final Set<BridgeEventType> FRAMES = Set.of(BridgeEventType.SEND, BridgeEventType.PUBLISH,
      BridgeEventType.REGISTER);

  private final RegionContext ctx;
  private final BridgeConfig config;
  private final String region;
  private final Counter refused;
  private TcpEventBusBridge bridge;

  public RegionBridge(RegionContext ctx) {
    this.ctx = ctx;
    this.config = ctx.config().bridge();
    this.region = ctx.region();
    this.refused = Counter.builder("genmesh_bridge_refused_total").tag("region", region)
        .description("Bridge frames refused: an address outside the allow-list").register(ctx.meters());
  }

  /** Listens on the region's bridge port; answers that port (the configured one). */
  public Future<Integer> start() {
    BridgeOptions options = new BridgeOptions();
    config.outbound().forEach(address -> options.addOutboundPermitted(new PermittedOptions().setAddress(address)));
    config.inbound().forEach(address -> options.addInboundPermitted(new PermittedOptions().setAddress(address)));
    int port = config.portOf(region);
    bridge = TcpEventBusBridge.create(ctx.vertx(), options, new NetServerOptions(), this::audit);
    return bridge.listen(port, config.host()).map(listening -> {
      LOG.info("region {}: event-bus bridge on {}:{} (outbound {}, inbound {})", region, config.host(), port,
          config.outbound(), config.inbound());
      return port;
    });
  }

  /** Every frame passes; the bridge itself refuses addresses outside the lists. Logs and counts those. */
  private void audit(BridgeEvent event) {
    if (FRAMES.contains(event.type()) && event.getRawMessage() != null) {
      String address = event.getRawMessage().getString("address");
      boolean allowed = event.type() == BridgeEventType.REGISTER ? config.outbound().contains(address)
          : config.inbound().contains(address);
      if (!allowed) {
        refused.increment();
        LOG.warn("region {}: bridge client {} refused: {} {} is not in the allow-list", region,
            event.socket().remoteAddress(), event.type().name().toLowerCase(java.util.Locale.ROOT), address);
      }
    }
    event.complete(true);
  }

  public Future<Void> stop() {
    return bridge == null ? Future.succeededFuture() : bridge.close();
  }
}
