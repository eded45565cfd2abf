package dev.genmesh.edge.regions.impl;

import dev.genmesh.config.RegionConfig;
import dev.genmesh.protocol.RequestIds;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/** Finds the client of a region by name, or by the region code a request id starts with. */
public final class RegionDirectory {
  private final Map<String, RegionClient> byName;

  public RegionDirectory(Map<String, RegionClient> byName) {
    this.byName = Map.copyOf(byName);
  }

  public Map<String, RegionClient> all() {
    return byName;
  }

  public RegionClient byName(String name) {
    RegionClient client = byName.get(name);
    if (client == null) {
      throw new IllegalArgumentException("no region named " + name);
    }
    return client;
  }

  /** The region holding a request; empty for a malformed id or a code no region has. */
  public Optional<RegionClient> forRequestId(String requestId) {
    return RequestIds.regionCode(requestId).flatMap(code -> byName.values().stream()
        .filter(client -> client.config().code().equals(code))
        .findFirst());
  }

  public static RegionDirectory of(Map<String, RegionConfig> regions, Function<RegionConfig, RegionClient> factory) {
    Map<String, RegionClient> clients = new HashMap<>();
    regions.forEach((name, region) -> clients.put(name, factory.apply(region)));
    return new RegionDirectory(clients);
  }
}
