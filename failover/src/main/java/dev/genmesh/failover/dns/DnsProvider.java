package dev.genmesh.failover.dns;

import io.vertx.core.Future;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;

/**
 * Where failover changes DNS (docs/failover.md, "DNS"). Each region has a name in the zone,
 * {@code <region>.<api name>}, holding the addresses of the edge that serves it; a GeoDNS server
 * answers the API name from the regions that have addresses. Every call is idempotent: applying a
 * change twice leaves what applying it once left.
 */
public interface DnsProvider {

  /** Sets the region's addresses (replacing what it had): the region is back in the answers. Completes once the server confirmed. */
  Future<Void> publish(String region, List<InetAddress> addresses);

  /** Removes the region's addresses: the region is out of the answers. Completes once the server confirmed. */
  Future<Void> withdraw(String region);

  /** What the server publishes now, per region of the configuration (empty list: withdrawn). */
  Future<Map<String, List<InetAddress>>> published();

  /** For the log: {@code rfc2136 127.0.0.1:5353 (key genmesh-failover.)}, {@code dry-run}. */
  String describe();
}
