package dev.genmesh.client;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * A generation as the edge shows it ({@code GenerationView} in openapi.yaml): the fields a caller
 * reads most, and the whole answer in {@link #json()}.
 *
 * @param status {@code queued}, {@code assigned}, {@code generating}, {@code safety_pending},
 *     {@code completed}, {@code failed} or {@code cancelled}
 * @param images the public paths of its images ({@code /v1/images/<id>/<i>.png}), served once completed
 * @param errorCode the error's code when it failed, else null
 */
public record Generation(String id, String region, String status, String tier, String model, List<String> images,
    Integer queuePosition, Long etaMs, String errorCode, String errorMessage, JsonObject json) {

  public static Generation fromJson(JsonObject json) {
    JsonObject links = json.getJsonObject("links", new JsonObject());
    JsonArray images = links.getJsonArray("images", json.getJsonArray("images", new JsonArray()));
    JsonObject error = json.getValue("error") instanceof JsonObject e ? e : null;
    return new Generation(json.getString("id"), json.getString("region"), json.getString("status"),
        json.getString("tier"), json.getString("model"), images.stream().map(String::valueOf).toList(),
        json.getInteger("queue_position"), json.getLong("eta_ms"),
        error == null ? null : error.getString("code"), error == null ? null : error.getString("message"), json);
  }

  /** Completed, failed or cancelled: nothing will change any more. */
  public boolean isTerminal() {
    return "completed".equals(status) || "failed".equals(status) || "cancelled".equals(status);
  }
}
