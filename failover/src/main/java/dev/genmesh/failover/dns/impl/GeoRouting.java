package dev.genmesh.failover.dns.impl;

import dev.genmesh.config.failover.DnsConfig;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Which region answers a client: its subnet (longest prefix) gives its home region, the home
 * region's {@code nearest} list the order in which regions are tried; the first healthy one wins.
 * Pure logic, no I/O.
 */
public final class GeoRouting {
  private final List<Subnet> subnets;
  private final String defaultRegion;
  private final Map<String, List<String>> nearest;
  private final List<String> regions;

  /** A client's home region and the prefix length of the subnet that placed it (the ECS scope). */
  public record Home(String region, int scopePrefix) {}

  /** A subnet of the map: its network bytes, its prefix length and the region it belongs to. */
  record Subnet(byte[] network, int prefix, String region) {
    boolean contains(byte[] address) {
      if (address.length != network.length) {
        return false;
      }
      int full = prefix / 8;
      for (int i = 0; i < full; i++) {
        if (address[i] != network[i]) {
          return false;
        }
      }
      int rest = prefix % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xff << (8 - rest)) & 0xff;
      return (address[full] & mask) == (network[full] & mask);
    }
  }

  public GeoRouting(DnsConfig.Responder config, Set<String> regions) {
    List<Subnet> parsed = new ArrayList<>();
    config.subnets().forEach((cidr, region) -> parsed.add(parse(cidr, region)));
    parsed.sort(Comparator.comparingInt(Subnet::prefix).reversed());
    this.subnets = List.copyOf(parsed);
    this.defaultRegion = config.defaultRegion();
    this.nearest = config.nearest();
    this.regions = List.copyOf(regions);
  }

  public Home home(InetAddress client) {
    byte[] address = client.getAddress();
    for (Subnet subnet : subnets) {
      if (subnet.contains(address)) {
        return new Home(subnet.region(), subnet.prefix());
      }
    }
    return new Home(defaultRegion, 0);
  }

  /** The regions to try for a client of {@code home}: its nearest list, then every other region in config order. */
  public List<String> order(String home) {
    Set<String> order = new LinkedHashSet<>(nearest.getOrDefault(home, List.of(home)));
    order.addAll(regions);
    return List.copyOf(order);
  }

  /** The first region of {@code home}'s order that is healthy. */
  public Optional<String> choose(String home, Predicate<String> healthy) {
    return order(home).stream().filter(healthy).findFirst();
  }

  private static Subnet parse(String cidr, String region) {
    int slash = cidr.indexOf('/');
    try {
      // An IP literal (the config checked it): no lookup happens.
      byte[] network = InetAddress.getByName(cidr.substring(0, slash)).getAddress();
      return new Subnet(network, Integer.parseInt(cidr.substring(slash + 1)), region);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not a subnet: " + cidr, e);
    }
  }
}
