package dev.genmesh.edge.regions.impl;

import dev.genmesh.config.RegionConfig;
import dev.genmesh.protocol.RequestIds;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * Finds the client of a region by name, or of the region that serves a request id now: the region
 * whose code the id starts with, or its adopter while the failover quorum holds it DOWN
 * (docs/architecture.md, "Failover routing at the edge"), or the adopter a returned region named in
 * a recent 307 for the id ({@link AdoptionRedirects}).
 */
public final class RegionDirectory {
  private final Map<String, RegionClient> byName;
  private final UnaryOperator<String> serving;
  private final Predicate<String> down;
  private final AdoptionRedirects redirects;

  public RegionDirectory(Map<String, RegionClient> byName) {
    this(byName, UnaryOperator.identity(), region -> false, null);
  }

  private RegionDirectory(Map<String, RegionClient> byName, UnaryOperator<String> serving, Predicate<String> down,
      AdoptionRedirects redirects) {
    this.byName = Map.copyOf(byName);
    this.serving = serving;
    this.down = down;
    this.redirects = redirects;
  }

  /**
   * This directory's clients following a returned region's 307 for an adopted id, once, to a region
   * of this directory, and routing the id there while {@code redirects} remembers it.
   */
  public RegionDirectory followingAdoptions(AdoptionRedirects redirects) {
    redirects.know(byName);
    return new RegionDirectory(byName, serving, down, redirects);
  }

  /**
   * This directory following failover decisions.
   *
   * @param serving owner region → the region that serves its ids now
   * @param down whether the quorum holds a region DOWN (no new submits go there)
   */
  public RegionDirectory following(UnaryOperator<String> serving, Predicate<String> down) {
    return new RegionDirectory(byName, serving, down, redirects);
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

  /** True while the failover quorum holds {@code region} DOWN. */
  public boolean isDown(String region) {
    return down.test(region);
  }

  /** The region serving a request now; empty for a malformed id or a code no region has. */
  public Optional<RegionClient> forRequestId(String requestId) {
    return owner(requestId).map(owner -> {
      String region = serving.apply(owner.name());
      if (region.equals(owner.name()) && redirects != null) {
        region = redirects.remembered(requestId).orElse(region);
      }
      RegionClient now = byName.get(region);
      return now == null ? owner : now;
    });
  }

  /** The region that issued a request id; empty for a malformed id or a code no region has. */
  public Optional<RegionClient> owner(String requestId) {
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
