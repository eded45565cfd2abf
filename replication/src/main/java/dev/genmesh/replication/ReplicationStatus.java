package dev.genmesh.replication;

import io.vertx.core.json.JsonObject;

/**
 * What a region's replication is doing now, as its readiness and metrics report it.
 *
 * @param mode what a commit waits for now
 * @param peer the region holding the replica (null: none)
 * @param peerStreaming the peer's subscription is connected and streaming
 * @param lagBytes WAL the peer has not confirmed yet (-1: unknown)
 * @param lagMs the peer's replay lag as PostgreSQL measures it (-1: unknown or idle)
 * @param refusing submits are refused (sync mode, peer unreachable, {@code on_peer_loss: refuse})
 * @param problem why replication is off or unhealthy, in words (null: none)
 */
public record ReplicationStatus(Mode mode, String peer, boolean peerStreaming, long lagBytes, long lagMs,
    boolean refusing, String problem) {

  public enum Mode {
    /** A commit waits until the peer holds it. */
    SYNC,
    /** Configured async: a commit does not wait. */
    ASYNC,
    /** Configured sync, but the peer is unreachable (or not connected yet): commits do not wait. */
    DEGRADED,
    /** No replication: disabled, no peer, or the database cannot publish. */
    OFF
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("mode", mode.name().toLowerCase(java.util.Locale.ROOT))
        .put("peer_streaming", peerStreaming).put("lag_bytes", lagBytes).put("lag_ms", lagMs).put("refusing", refusing);
    if (peer != null) {
      json.put("peer", peer);
    }
    if (problem != null) {
      json.put("problem", problem);
    }
    return json;
  }
}
