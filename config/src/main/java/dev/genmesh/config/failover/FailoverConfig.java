package dev.genmesh.config.failover;

import dev.genmesh.config.ConfigException;
import dev.genmesh.config.impl.Node;
import java.util.List;

/**
 * Region failure detection by quorum and self-fencing (docs/architecture.md, "Region failure
 * detection"). Every participant (the edge and each region node) judges every region, serves its
 * opinions, gathers everyone else's and decides a region down only when a majority of its
 * observers (every participant but the region itself) has suspected it for {@code detectAfterMs}.
 *
 * @param enabled false: nobody observes, decides or fences (a single region, tests of other things)
 * @param ring the replication ring: a region's adopter is the next region in it (the last wraps to the first)
 * @param detectAfterMs a majority's continuous suspicion before a region is declared DOWN
 * @param failbackAfterMs a majority's continuous health before a DOWN region is declared UP again
 * @param fenceAfterMs a region node that holds no fresh "ok" from a majority of its observers
 *     for this long stops dispatching; below {@code detectAfterMs} by at least {@link #MIN_FENCE_MARGIN_MS}
 * @param stallAfterMs a region with queued work and no dispatch for this long is suspect
 * @param pollIntervalMs how often each participant probes the regions and fetches the others' opinions
 * @param pollTimeoutMs bound on one probe or fetch
 * @param edgeUrl where the edge's opinions are fetched; empty: {@code http://<edge.host>:<edge.port>}
 * @param dns how DNS follows the decisions ({@code failover.dns.*}, docs/failover.md)
 */
public record FailoverConfig(
    boolean enabled,
    List<String> ring,
    long detectAfterMs,
    long failbackAfterMs,
    long fenceAfterMs,
    long stallAfterMs,
    long pollIntervalMs,
    long pollTimeoutMs,
    String edgeUrl,
    DnsConfig dns) {

  /** The least time between a region fencing itself and anyone declaring it down (docs/architecture.md). */
  public static final long MIN_FENCE_MARGIN_MS = 1000;
  /** The observer name of the edge. */
  public static final String EDGE = "edge";

  public FailoverConfig {
    ring = List.copyOf(ring);
  }

  /** The defaults of genmesh-defaults.yaml, for code that builds a configuration by hand. */
  public static FailoverConfig defaults() {
    return new FailoverConfig(false, List.of("us-west", "us-east", "eu-west"), 15_000, 60_000, 10_000, 60_000, 1_000,
        1_000, "", DnsConfig.defaults());
  }

  public FailoverConfig withEnabled(boolean on) {
    return new FailoverConfig(on, ring, detectAfterMs, failbackAfterMs, fenceAfterMs, stallAfterMs, pollIntervalMs,
        pollTimeoutMs, edgeUrl, dns);
  }

  public FailoverConfig withTimings(long detectAfter, long failbackAfter, long fenceAfter, long stallAfter, long pollInterval,
      long pollTimeout) {
    FailoverConfig config = new FailoverConfig(enabled, ring, detectAfter, failbackAfter, fenceAfter, stallAfter,
        pollInterval, pollTimeout, edgeUrl, dns);
    config.checkTimings("failover");
    return config;
  }

  public FailoverConfig withEdgeUrl(String url) {
    return new FailoverConfig(enabled, ring, detectAfterMs, failbackAfterMs, fenceAfterMs, stallAfterMs, pollIntervalMs,
        pollTimeoutMs, url, dns);
  }

  public FailoverConfig withDns(DnsConfig newDns) {
    return new FailoverConfig(enabled, ring, detectAfterMs, failbackAfterMs, fenceAfterMs, stallAfterMs, pollIntervalMs,
        pollTimeoutMs, edgeUrl, newDns);
  }

  /** The region that adopts {@code region}'s work when it is down: the next one in the ring; null if it is not in it. */
  public String adopterOf(String region) {
    int at = ring.indexOf(region);
    return at < 0 || ring.size() < 2 ? null : ring.get((at + 1) % ring.size());
  }

  public static FailoverConfig read(Node n) {
    FailoverConfig config = new FailoverConfig(
        n.bool("enabled", false),
        n.strings("ring", List.of()),
        n.integer("detect_after_ms", 100L, 3_600_000L),
        n.integer("failback_after_ms", 100L, 86_400_000L),
        n.integer("fence_after_ms", 50L, 3_600_000L),
        n.integer("stall_after_ms", 100L, 86_400_000L),
        n.integer("poll_interval_ms", 20L, 600_000L),
        n.integer("poll_timeout_ms", 20L, 600_000L),
        n.string("edge_url", ""),
        n.has("dns") ? DnsConfig.read(n.child("dns")) : DnsConfig.defaults());
    n.finish();
    config.checkTimings(n.path());
    if (!config.edgeUrl.isEmpty() && !config.edgeUrl.matches("https?://.+")) {
      throw new ConfigException(n.keyPath("edge_url"), "must be an http:// or https:// URL, got '" + config.edgeUrl + "'");
    }
    if (config.ring.stream().distinct().count() != config.ring.size()) {
      throw new ConfigException(n.keyPath("ring"), "names a region twice: " + config.ring);
    }
    return config;
  }

  /**
   * The fencing argument needs the fence before any detection, with room for a claim in flight;
   * and a lease must survive the gap between two successful polls.
   */
  private void checkTimings(String path) {
    if (fenceAfterMs + MIN_FENCE_MARGIN_MS > detectAfterMs) {
      throw new ConfigException(path + ".fence_after_ms", "must be at least " + MIN_FENCE_MARGIN_MS
          + " ms below detect_after_ms (" + detectAfterMs + "), got " + fenceAfterMs);
    }
    if (fenceAfterMs < 2 * pollIntervalMs + pollTimeoutMs) {
      throw new ConfigException(path + ".fence_after_ms", "must be at least two poll intervals plus a poll timeout ("
          + (2 * pollIntervalMs + pollTimeoutMs) + " ms), got " + fenceAfterMs);
    }
  }
}
