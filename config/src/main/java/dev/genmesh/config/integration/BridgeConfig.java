package dev.genmesh.config.integration;

import dev.genmesh.config.ConfigException;
import dev.genmesh.config.impl.Node;
import java.util.List;
import java.util.Map;

/**
 * The TCP event-bus bridge of each region node (docs/event-bus.md): internal services in another
 * language (billing, for one) read the region's events over a socket, 4-byte length + JSON frames.
 * Only the addresses listed may be used: anything else is refused with {@code access_denied}.
 *
 * @param enabled false (the default): no bridge
 * @param host the interface it listens on; loopback by default, a private interface in production
 * @param ports region name → its bridge's port (several regions may share a host); 0: a free port
 * @param outbound addresses a client may register to (events flow out to it)
 * @param inbound addresses a client may send or publish to (none by default)
 * @param usageResendAfterMs a finished request whose usage event is not marked published this long
 *     after it finished gets it again (a node died between commit and publish); also the sweep's
 *     interval. Usage events are published whether or not the bridge is on.
 */
public record BridgeConfig(boolean enabled, String host, Map<String, Integer> ports, List<String> outbound,
    List<String> inbound, long usageResendAfterMs) {

  public BridgeConfig {
    ports = Map.copyOf(ports);
    outbound = List.copyOf(outbound);
    inbound = List.copyOf(inbound);
  }

  public static BridgeConfig defaults() {
    return new BridgeConfig(false, "127.0.0.1", Map.of("us-west", 7181, "us-east", 7182, "eu-west", 7183),
        List.of("genmesh.usage", "genmesh.alerts"), List.of(), 30_000);
  }

  /** The port of {@code region}'s bridge: its configured one, else 0 (a free port). */
  public int portOf(String region) {
    return ports.getOrDefault(region, 0);
  }

  public BridgeConfig withPorts(boolean on, Map<String, Integer> newPorts) {
    return new BridgeConfig(on, host, newPorts, outbound, inbound, usageResendAfterMs);
  }

  public static BridgeConfig read(Node n) {
    Map<String, Integer> ports = new java.util.LinkedHashMap<>();
    n.integers("ports", 0, 65_535).forEach((region, port) -> ports.put(region, port.intValue()));
    BridgeConfig config = new BridgeConfig(n.bool("enabled", false), n.string("host", "127.0.0.1"), ports,
        n.strings("outbound", List.of()), n.strings("inbound", List.of()),
        n.integer("usage_resend_after_ms", 100L, 86_400_000L, 30_000L));
    n.finish();
    checkExact(n, "outbound", config.outbound);
    checkExact(n, "inbound", config.inbound);
    return config;
  }

  private static void checkExact(Node n, String key, List<String> addresses) {
    for (String address : addresses) {
      if (address.isBlank() || address.contains("*")) {
        throw new ConfigException(n.keyPath(key), "lists exact addresses only (no patterns), got '" + address + "'");
      }
    }
  }
}
