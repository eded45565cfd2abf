package dev.genmesh.failover.dns.impl;

import dev.genmesh.config.failover.DnsConfig;
import dev.genmesh.failover.dns.DnsNames;
import dev.genmesh.failover.dns.DnsProvider;
import io.vertx.core.Future;
import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Changes nothing: logs each change it would make, and remembers them, so {@link #published} shows
 * the regions it was told about (and only those) as they would be.
 */
public final class DryRunProvider implements DnsProvider {
  private static final Logger LOG = LoggerFactory.getLogger(DryRunProvider.class);
  private final DnsConfig config;
  private final Map<String, List<InetAddress>> records = new ConcurrentHashMap<>();

  public DryRunProvider(DnsConfig config) {
    this.config = config;
  }

  @Override
  public Future<Void> publish(String region, List<InetAddress> addresses) {
    records.put(region, List.copyOf(addresses));
    LOG.info("DNS dry run: would set {} to {} (TTL {} s){}", DnsNames.region(config, region),
        addresses.stream().map(InetAddress::getHostAddress).toList(), config.ttlSeconds(),
        config.flat() ? " and add them to " + DnsNames.api(config) : "");
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> withdraw(String region) {
    records.put(region, List.of());
    LOG.info("DNS dry run: would delete the addresses of {}{}", DnsNames.region(config, region),
        config.flat() ? " and remove them from " + DnsNames.api(config) : "");
    return Future.succeededFuture();
  }

  @Override
  public Future<Map<String, List<InetAddress>>> published() {
    Map<String, List<InetAddress>> out = new LinkedHashMap<>();
    config.edges().keySet().stream().filter(records::containsKey).forEach(r -> out.put(r, records.get(r)));
    records.forEach(out::putIfAbsent);
    return Future.succeededFuture(out);
  }

  @Override
  public String describe() {
    return "dry-run (logs the changes, makes none)";
  }
}
