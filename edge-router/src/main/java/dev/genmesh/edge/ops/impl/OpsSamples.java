package dev.genmesh.edge.ops.impl;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The small form of a snapshot kept for the console's charts: per region whether the edge holds it
 * healthy, the depth and oldest wait of each tier queue, and how many workers are in each state.
 * An hour at the default 5 s is 720 of these.
 */
final class OpsSamples {
  private OpsSamples() {}

  static JsonObject compact(JsonObject snapshot) {
    JsonObject edgeRegions = snapshot.getJsonObject("edge").getJsonObject("regions", new JsonObject());
    JsonObject regions = snapshot.getJsonObject("regions");
    JsonObject out = new JsonObject();
    for (String name : regions.fieldNames()) {
      JsonObject region = regions.getJsonObject(name);
      JsonObject health = edgeRegions.getJsonObject(name, new JsonObject());
      JsonObject queued = new JsonObject();
      JsonObject oldest = new JsonObject();
      JsonObject ops = region.getJsonObject("ops");
      if (ops != null) {
        JsonObject queues = ops.getJsonObject("queues", new JsonObject());
        for (String tier : queues.fieldNames()) {
          queued.put(tier, queues.getJsonObject(tier).getLong("depth"));
          oldest.put(tier, queues.getJsonObject(tier).getLong("oldest_wait_ms"));
        }
      }
      JsonObject workers = new JsonObject();
      JsonArray list = region.getJsonArray("workers");
      if (list != null) {
        for (int i = 0; i < list.size(); i++) {
          String state = list.getJsonObject(i).getString("state", "unknown");
          workers.put(state, workers.getInteger(state, 0) + 1);
        }
      }
      out.put(name, new JsonObject()
          .put("healthy", "healthy".equals(health.getString("status")))
          .put("reachable", region.getBoolean("reachable", false))
          .put("queued", queued)
          .put("oldest_wait_ms", oldest)
          .put("workers", workers));
    }
    return new JsonObject().put("at", snapshot.getString("at")).put("regions", out);
  }
}
