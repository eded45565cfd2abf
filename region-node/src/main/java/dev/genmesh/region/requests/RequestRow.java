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
 * One row of the {@code requests} table. Its jsonb columns (spec, images) are read when first
 * asked ({@link JsonColumn}): {@link #spec()}, {@link #generationSpec()} and {@link #images()}.
 *
 * @param specColumn the spec as the row holds it (read it through {@link #spec()})
 * @param imagesColumn the images as the row holds them (read them through {@link #images()})
 * @param traceParent the W3C traceparent of the submit (null: not traced)
 * @param gpuClass the GPU class of the worker that holds or held the current attempt (null before the first claim)
 */
public record RequestRow(
    String id,
    String idempotencyKey,
    Tier tier,
    String model,
    JsonColumn<JsonObject> specColumn,
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
    JsonColumn<List<StoredImage>> imagesColumn,
    Long gpuMs,
    String traceParent,
    String gpuClass) {

  public static final String ANONYMOUS = "anonymous";

  /**
   * The columns {@link #from} reads, for statements that return rows (instead of {@code *}): the
   * jsonb ones as text, parsed only if asked, and none of the columns no reader of a row needs.
   */
  public static final String COLUMNS = "id, idempotency_key, tier, model, spec::text AS spec, status, priority, attempt,"
      + " retry_count, worker_id, error_code, error_message, image_count, last_event_seq, created_at, queued_at,"
      + " assigned_at, started_at, completed_at, updated_at, user_id, not_before, assigned_vram_mb, hint_min_vram_mb,"
      + " excluded_workers, safety_pending_at, safety_reason, request_hash, images::text AS images, gpu_ms,"
      + " trace_parent, gpu_class";

  /** The request's spec as stored (parsed once, when first asked). */
  public JsonObject spec() {
    return specColumn.get();
  }

  /** The spec as a {@link GenerationSpec} (read once, when first asked; a malformed spec throws each time). */
  public GenerationSpec generationSpec() {
    return specColumn.derived(GenerationSpec::fromJson);
  }

  /**
   * The objects of the attempt that reached SAFETY_PENDING, in image order (served only once the row is
   * COMPLETED); empty before. Read once, when first asked.
   */
  public List<StoredImage> images() {
    List<StoredImage> images = imagesColumn.get();
    return images == null ? List.of() : images;
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
        JsonColumn.of(row.getValue("spec"), JsonColumn::object),
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
        JsonColumn.of(row.getValue("images"), RequestRow::images),
        gpuMs(row),
        optionalString(row, "trace_parent"),
        optionalString(row, "gpu_class"));
  }

  /** The GPU time the worker reported for the attempt that produced the images (null before, or from an older row). */
  private static Long gpuMs(Row row) {
    int column = row.getColumnIndex("gpu_ms");
    return column < 0 ? null : row.getLong(column);
  }

  /** The objects of the attempt that reached SAFETY_PENDING (a JSON array, parsed or as text); empty before. */
  private static List<StoredImage> images(Object column) {
    if (column instanceof String text && text.startsWith("[")) {
      return StoredImage.fromJson(JsonColumn.array(text));
    }
    return column instanceof JsonArray array ? StoredImage.fromJson(array) : List.of();
  }

  /** A column older rows (a peer's replica) may lack: null then. */
  private static String optionalString(Row row, String name) {
    int column = row.getColumnIndex(name);
    return column < 0 ? null : row.getString(column);
  }

  private static List<String> strings(String[] values) {
    return values == null ? List.of() : List.of(values);
  }

  public static Instant instant(Row row, String column) {
    OffsetDateTime value = row.getOffsetDateTime(column);
    return value == null ? null : value.toInstant();
  }
}
