package dev.genmesh.region.api.impl;

import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.region.node.ImagePaths;
import dev.genmesh.region.queue.RetryPolicy;
import dev.genmesh.region.requests.RequestRow;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;

/** The JSON a regional API caller sees for one request (documented in region-node/API.md). */
public final class RequestView {
  private RequestView() {}

  /** {@code queuePosition} and {@code etaMs} apply only while the request is queued (null otherwise). */
  public static JsonObject of(RequestRow row, String region, Long queuePosition, Long etaMs) {
    JsonObject timings = new JsonObject()
        .put("queue_ms", between(row.queuedAt(), row.assignedAt()))
        .put("generation_ms", between(row.startedAt(), row.completedAt()))
        .put("total_ms", between(row.createdAt(), row.completedAt()))
        // The worker's GPU time for the images (its share of a batch): what fast/turbo quotas meter.
        .put("gpu_ms", row.status() == RequestStatus.COMPLETED ? row.gpuMs() : null);
    boolean queued = row.status() == RequestStatus.QUEUED;
    JsonObject lastError = row.errorCode() == null ? null
        : new JsonObject().put("code", row.errorCode()).put("message", row.errorMessage());
    JsonArray images = new JsonArray();
    if (row.status() == RequestStatus.COMPLETED && row.imageCount() != null) {
      for (int i = 0; i < row.imageCount(); i++) {
        images.add(ImagePaths.publicPath(row.id(), i));
      }
    }
    JsonArray hints = new JsonArray();
    if (row.hintMinVramMb() != null) {
      hints.add(RetryPolicy.HINT_LARGER_VRAM);
    }
    if (!row.excludedWorkers().isEmpty()) {
      hints.add(RetryPolicy.HINT_DIFFERENT_WORKER);
    }
    return new JsonObject()
        .put("id", row.id())
        .put("region", region)
        .put("status", row.status().wireName())
        .put("tier", row.tier().wireName())
        .put("model", row.model())
        .put("user", row.userId())
        .put("spec", row.spec())
        .put("priority", row.priority())
        .put("attempt", row.attempt())
        .put("retry_count", row.retryCount())
        .put("worker", row.workerId())
        .put("created_at", text(row.createdAt()))
        .put("queued_at", text(row.queuedAt()))
        .put("not_before", queued ? text(row.notBefore()) : null)
        .put("assigned_at", text(row.assignedAt()))
        .put("started_at", text(row.startedAt()))
        .put("completed_at", text(row.completedAt()))
        .put("timings", timings)
        .put("error", row.status() == RequestStatus.FAILED ? lastError : null)
        .put("last_error", row.status() == RequestStatus.FAILED ? null : lastError)
        .put("routing_hints", hints)
        .put("images", images)
        .put("safety", safety(row))
        .put("queue_position", queued ? queuePosition : null)
        .put("eta_ms", queued ? etaMs : null);
  }

  /** While the request waits for its safety check: why, and since when; null otherwise. */
  private static JsonObject safety(RequestRow row) {
    if (row.status() != RequestStatus.SAFETY_PENDING) {
      return null;
    }
    return new JsonObject().put("reason", row.safetyReason()).put("pending_since", text(row.safetyPendingAt()));
  }

  private static String text(Instant instant) {
    return instant == null ? null : instant.toString();
  }

  private static Long between(Instant from, Instant to) {
    return from == null || to == null ? null : Math.max(0, Duration.between(from, to).toMillis());
  }
}
