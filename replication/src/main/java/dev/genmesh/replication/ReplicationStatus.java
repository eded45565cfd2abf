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
 * @param peerTablesReady tables of the publication the peer's subscription has copied (state
 *     {@code ready}); until all are, sync mode is not RPO 0 (-1: unknown or not read)
 * @param peerTables tables of the publication (-1: unknown or not read)
 */
public record ReplicationStatus(Mode mode, String peer, boolean peerStreaming, long lagBytes, long lagMs,
    boolean refusing, String problem, int peerTablesReady, int peerTables) {

  /** A status without the peer's copy progress. */
  public ReplicationStatus(Mode mode, String peer, boolean peerStreaming, long lagBytes, long lagMs, boolean refusing,
      String problem) {
    this(mode, peer, peerStreaming, lagBytes, lagMs, refusing, problem, -1, -1);
  }

  public enum Mode {
    /**
     * A commit waits until the peer holds it: the peer streams and its subscription has copied
     * every table of the publication (RPO 0). With {@code refusing}: the peer is unreachable,
     * commits wait for its return and new submits are refused.
     */
    SYNC,
    /** Configured async: a commit does not wait. */
    ASYNC,
    /**
     * Configured sync, but the peer is unreachable (or not connected yet: commits do not wait), or it
     * streams but is still copying the initial log (commits wait for it, but a table in its
     * initial copy does not hold them yet): not RPO 0.
     */
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
    if (peerTables >= 0) {
      json.put("peer_tables_ready", peerTablesReady).put("peer_tables", peerTables);
    }
    return json;
  }
}
