package dev.genmesh.region.impl;

import dev.genmesh.protocol.RequestStatus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;

/** The JSON a regional API caller sees for one request (documented in region-node/API.md). */
public final class RequestView {
  private RequestView() {}

  public static JsonObject of(RequestRow row, String region, Long queuePosition) {
    JsonObject timings = new JsonObject()
        .put("queue_ms", between(row.queuedAt(), row.assignedAt()))
        .put("generation_ms", between(row.startedAt(), row.completedAt()))
        .put("total_ms", between(row.createdAt(), row.completedAt()));
    JsonObject error = row.errorCode() == null ? null
        : new JsonObject().put("code", row.errorCode()).put("message", row.errorMessage());
    JsonArray images = new JsonArray();
    if (row.status() == RequestStatus.COMPLETED && row.imageCount() != null) {
      for (int i = 0; i < row.imageCount(); i++) {
        images.add(ImageStore.publicPath(row.id(), i));
      }
    }
    return new JsonObject()
        .put("id", row.id())
        .put("region", region)
        .put("status", row.status().wireName())
        .put("tier", row.tier().wireName())
        .put("model", row.model())
        .put("spec", row.spec())
        .put("attempt", row.attempt())
        .put("worker", row.workerId())
        .put("created_at", text(row.createdAt()))
        .put("queued_at", text(row.queuedAt()))
        .put("assigned_at", text(row.assignedAt()))
        .put("started_at", text(row.startedAt()))
        .put("completed_at", text(row.completedAt()))
        .put("timings", timings)
        .put("error", error)
        .put("images", images)
        .put("queue_position", row.status() == RequestStatus.QUEUED ? queuePosition : null);
  }

  private static String text(Instant instant) {
    return instant == null ? null : instant.toString();
  }

  private static Long between(Instant from, Instant to) {
    return from == null || to == null ? null : Math.max(0, Duration.between(from, to).toMillis());
  }
}
