package dev.genmesh.region.workers;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * A worker as the region node last heard of it (from its heartbeat), and how the region judges
 * it now.
 *
 * @param nodeId its Hazelcast member id (null outside a cluster): when that member leaves, the
 *     worker is {@link WorkerState#GONE} at once
 * @param stateReason why it is in {@code state} (for operators and alerts)
 * @param stateSince when it entered {@code state}
 */
public record KnownWorker(
    String workerId,
    String gpuClass,
    List<String> loadedModels,
    List<String> activeRequests,
    Instant lastSeen,
    String nodeId,
    long vramFreeMb,
    double utilisation,
    WorkerState state,
    String stateReason,
    Instant stateSince) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("worker_id", workerId)
        .put("state", state.wireName())
        .put("reason", stateReason)
        .put("since", stateSince.toString())
        .put("last_heartbeat", lastSeen.toString())
        .put("gpu_class", gpuClass)
        .put("vram_free_mb", vramFreeMb)
        .put("utilisation", utilisation)
        .put("loaded_models", new JsonArray(List.copyOf(loadedModels)))
        .put("active_requests", new JsonArray(List.copyOf(activeRequests)))
        .put("node_id", nodeId);
  }
}
