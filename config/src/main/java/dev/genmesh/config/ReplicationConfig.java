package dev.genmesh.config;

import dev.genmesh.config.impl.Node;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Replication of each region's request log to its peer region (docs/architecture.md,
 * "Replication and adoption"): PostgreSQL logical replication of the region's schema, set up by
 * the region nodes at start.
 *
 * @param enabled false: no publication, no subscription, no adoption (each region alone)
 * @param mode {@code sync}: a commit (and so a 202) waits until the peer holds it; {@code async}: it does not
 * @param onPeerLoss in sync mode, what an unreachable peer does: {@code degrade} to async with an
 *     alert (submits go on), or {@code refuse} submits (503) until it is back
 * @param peers region → the region that holds its replica and adopts its requests (a ring by default)
 * @param checkIntervalMs how often a node reads its replication state (lag, peer connected)
 * @param peerTimeoutMs the peer's subscription not streaming this long: the peer is unreachable
 * @param reconcileTimeoutMs how long a restarting region tries to reach its peer's database to
 *     learn what the peer adopted, before it starts without knowing (with an alert)
 */
public record ReplicationConfig(
    boolean enabled,
    Mode mode,
    PeerLoss onPeerLoss,
    Map<String, String> peers,
    long checkIntervalMs,
    long peerTimeoutMs,
    long reconcileTimeoutMs) {

  public enum Mode { SYNC, ASYNC }

  public enum PeerLoss { DEGRADE, REFUSE }

  public ReplicationConfig {
    peers = Map.copyOf(peers);
  }

  /** The defaults of genmesh-defaults.yaml, for code that builds a configuration by hand. */
  public static ReplicationConfig defaults() {
    Map<String, String> ring = new LinkedHashMap<>();
    ring.put("us-west", "us-east");
    ring.put("us-east", "eu-west");
    ring.put("eu-west", "us-west");
    return new ReplicationConfig(true, Mode.SYNC, PeerLoss.DEGRADE, ring, 1_000, 5_000, 10_000);
  }

  /** The region that holds {@code region}'s replica, if it has one. */
  public Optional<String> peerOf(String region) {
    return Optional.ofNullable(peers.get(region));
  }

  /** The region whose replica {@code region} holds (and adopts when it is down), if any. */
  public Optional<String> wardOf(String region) {
    return peers.entrySet().stream().filter(e -> e.getValue().equals(region)).map(Map.Entry::getKey).findFirst();
  }

  public ReplicationConfig withMode(Mode newMode, PeerLoss newOnPeerLoss) {
    return new ReplicationConfig(enabled, newMode, newOnPeerLoss, peers, checkIntervalMs, peerTimeoutMs,
        reconcileTimeoutMs);
  }

  public ReplicationConfig withEnabled(boolean on) {
    return new ReplicationConfig(on, mode, onPeerLoss, peers, checkIntervalMs, peerTimeoutMs, reconcileTimeoutMs);
  }

  public ReplicationConfig withTimings(long newCheckIntervalMs, long newPeerTimeoutMs) {
    return new ReplicationConfig(enabled, mode, onPeerLoss, peers, newCheckIntervalMs, newPeerTimeoutMs,
        reconcileTimeoutMs);
  }

  static ReplicationConfig read(Node n) {
    ReplicationConfig config = new ReplicationConfig(
        n.bool("enabled", true),
        choice(n, "mode", Mode.class),
        choice(n, "on_peer_loss", PeerLoss.class),
        n.texts("peers"),
        n.integer("check_interval_ms", 50L, 600_000L),
        n.integer("peer_timeout_ms", 100L, 3_600_000L),
        n.integer("reconcile_timeout_ms", 0L, 3_600_000L));
    n.finish();
    config.peers.forEach((region, peer) -> {
      if (region.equals(peer)) {
        throw new ConfigException(n.keyPath("peers." + region), "names the region itself; a peer is another region");
      }
    });
    long wards = config.peers.values().stream().distinct().count();
    if (wards != config.peers.size()) {
      throw new ConfigException(n.keyPath("peers"), "gives one region the replicas of two others; each region holds"
          + " at most one peer's replica (a ring)");
    }
    return config;
  }

  private static <E extends Enum<E>> E choice(Node n, String key, Class<E> type) {
    String text = n.string(key);
    try {
      return Enum.valueOf(type, text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(n.keyPath(key), "must be one of " + java.util.Arrays.stream(type.getEnumConstants())
          .map(c -> c.name().toLowerCase(Locale.ROOT)).toList() + ", got '" + text + "'");
    }
  }
}
