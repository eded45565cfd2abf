package dev.genmesh.edge.impl;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** The public URLs of a generation, added to every view the edge hands out. */
public final class Links {
  private Links() {}

  public static String self(String requestId) {
    return "/v1/generations/" + requestId;
  }

  public static JsonObject of(String requestId, int batchSize) {
    JsonArray images = new JsonArray();
    for (int i = 0; i < Math.max(1, batchSize); i++) {
      images.add("/v1/images/" + requestId + "/" + i + ".png");
    }
    return new JsonObject()
        .put("self", self(requestId))
        .put("events", self(requestId) + "/events")
        .put("images", images);
  }

  /** A copy of a region's view with {@code links}; the batch size comes from its spec when present. */
  public static JsonObject addTo(JsonObject view, int fallbackBatchSize) {
    JsonObject spec = view.getValue("spec") instanceof JsonObject s ? s : new JsonObject();
    Object batch = spec.getValue("batch_size");
    int batchSize = batch instanceof Number n ? n.intValue() : fallbackBatchSize;
    return view.copy().put("links", of(view.getString("id"), batchSize));
  }
}
