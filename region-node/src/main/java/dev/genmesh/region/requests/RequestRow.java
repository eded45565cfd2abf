package dev.genmesh.region.requests;

import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.protocol.StoredImage;
import dev.genmesh.protocol.Tier;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * One row of the {@code requests} table.
 *
 * @param images the objects of the attempt that reached SAFETY_PENDING, in image order (served
 *     only once the row is COMPLETED); empty before
 * @param traceParent the W3C traceparent of the submit (null: not traced)
 * @param gpuClass the GPU class of the worker that holds or held the current attempt (null before the first claim)
 */
public record RequestRow(
    String id,
    String idempotencyKey,
    Tier tier,
    String model,
    JsonObject spec,
    RequestStatus status,
    int priority,
    int attempt,
    int retryCount,
    String workerId,
    String errorCode,
    String errorMessage,
    Integer imageCount,
    long lastEventSeq,
    Instant createdAt,
    Instant queuedAt,
    Instant assignedAt,
    Instant startedAt,
    Instant completedAt,
    Instant updatedAt,
    String userId,
    Instant notBefore,
    Long assignedVramMb,
    Long hintMinVramMb,
    List<String> excludedWorkers,
    Instant safetyPendingAt,
    String safetyReason,
    String requestHash,
    List<StoredImage> images,
    Long gpuMs,
    String traceParent,
    String gpuClass) {

  public static final String ANONYMOUS = "anonymous";

  public GenerationSpec generationSpec() {
    return GenerationSpec.fromJson(spec);
  }

  /** True while a worker holds it (or should). */
  public boolean isRunning() {
    return status == RequestStatus.ASSIGNED || status == RequestStatus.GENERATING;
  }

  public static RequestRow from(Row row) {
    return new RequestRow(
        row.getString("id"),
        row.getString("idempotency_key"),
        Tier.parse(row.getString("tier")).orElse(Tier.DEFAULT),
        row.getString("model"),
        row.getJsonObject("spec"),
        RequestStatus.valueOf(row.getString("status")),
        row.getInteger("priority"),
        row.getInteger("attempt"),
        row.getInteger("retry_count"),
        row.getString("worker_id"),
        row.getString("error_code"),
        row.getString("error_message"),
        row.getInteger("image_count"),
        row.getLong("last_event_seq"),
        instant(row, "created_at"),
        instant(row, "queued_at"),
        instant(row, "assigned_at"),
        instant(row, "started_at"),
        instant(row, "completed_at"),
        instant(row, "updated_at"),
        row.getString("user_id"),
        instant(row, "not_before"),
        row.getLong("assigned_vram_mb"),
        row.getLong("hint_min_vram_mb"),
        strings(row.getArrayOfStrings("excluded_workers")),
        instant(row, "safety_pending_at"),
        row.getString("safety_reason"),
        row.getString("request_hash"),
        images(row),
        gpuMs(row),
        row.getColumnIndex("trace_parent") >= 0 ? row.getString("trace_parent") : null,
        row.getColumnIndex("gpu_class") >= 0 ? row.getString("gpu_class") : null);
  }

  /** The GPU time the worker reported for the attempt that produced the images (null before, or from an older row). */
  private static Long gpuMs(Row row) {
    int column = row.getColumnIndex("gpu_ms");
    return column < 0 ? null : row.getLong(column);
  }

  /** The objects recorded for the attempt that reached SAFETY_PENDING; empty before that. */
  private static List<StoredImage> images(Row row) {
    Object value = row.getValue("images");
    return value instanceof JsonArray array ? StoredImage.fromJson(array) : List.of();
  }

  private static List<String> strings(String[] values) {
    return values == null ? List.of() : List.of(values);
  }

  public static Instant instant(Row row, String column) {
    OffsetDateTime value = row.getOffsetDateTime(column);
    return value == null ? null : value.toInstant();
  }
}
