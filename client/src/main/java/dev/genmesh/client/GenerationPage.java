package dev.genmesh.client;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * One page of the caller's generations, newest first ({@code GET /v1/generations}).
 *
 * @param nextCursor the cursor of the next page, null on the last one
 */
public record GenerationPage(List<Summary> generations, String nextCursor) {

  /** One listed generation; {@code status} is the last one an edge saw (read the generation for the current one). */
  public record Summary(String id, String region, String tier, String status, String createdAt) {}

  public static GenerationPage fromJson(JsonObject json) {
    List<Summary> items = json.getJsonArray("generations").stream().map(JsonObject.class::cast)
        .map(g -> new Summary(g.getString("id"), g.getString("region"), g.getString("tier"), g.getString("status"),
            g.getString("created_at")))
        .toList();
    return new GenerationPage(items, json.getString("next_cursor"));
  }

  public boolean hasNext() {
    return nextCursor != null;
  }
}
