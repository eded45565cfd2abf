package dev.genmesh.region.safety.impl;

import dev.genmesh.protocol.EventType;
import dev.genmesh.protocol.StoredImage;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.RequestRow;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The request log's side of the safety gate (region-node/SAFETY.md): a finished attempt waits
 * in SAFETY_PENDING, and leaves it only through a check's answer (COMPLETED or FAILED) or a
 * cancel. Each change is one statement with its event, compare-and-set on attempt and status,
 * like every other change of {@link RequestLog}. Times come from the region's clock.
 */
public final class SafetyLog {
  /** The error code of a request the safety check blocked. */
  public static final String BLOCKED = "safety_blocked";
  private static final String PENDING = "'SAFETY_PENDING'";

  /** A request whose wait passed the alert threshold, claimed for the alert by this node. */
  public record Overdue(String id, Instant pendingSince) {}

  private final Pool pool;
  private final RequestLog log;

  public SafetyLog(Pool pool, RequestLog log) {
    this.pool = pool;
    this.log = log;
  }

  /**
   * The current attempt finished with {@code images} (already in the object store): RUNNING →
   * SAFETY_PENDING, recording their keys, with a {@code safety_pending} event that tells the user
   * why. No node checks it again before {@code nextCheckAt}. Empty if the attempt is stale: then
   * nothing is recorded, and the attempt's objects stay orphans for the image sweeper.
   */
  public Future<Optional<RequestLog.Change>> hold(String id, int attempt, List<StoredImage> images, String reason,
      Instant now, Instant nextCheckAt) {
    return hold(id, attempt, images, reason, now, nextCheckAt, 0);
  }

  /** As above, with the worker's GPU time for the attempt (the last attempt's counts: earlier ones failed). */
  public Future<Optional<RequestLog.Change>> hold(String id, int attempt, List<StoredImage> images, String reason,
      Instant now, Instant nextCheckAt, long gpuMs) {
    Tuple params = Tuple.of(id, attempt, images.size(), reason, at(now), at(nextCheckAt), StoredImage.toJson(images));
    params.addLong(gpuMs);
    return log.transition(
        "UPDATE requests SET status = 'SAFETY_PENDING', image_count = $3, images = $7::jsonb, safety_reason = $4,"
            + " gpu_ms = $8,"
            + " safety_pending_at = $5, safety_next_check_at = $6, safety_alerted_at = NULL,"
            + " started_at = coalesce(started_at, assigned_at), updated_at = now(), last_event_seq = last_event_seq + 1"
            + " WHERE id = $1 AND attempt = $2 AND status IN ('ASSIGNED', 'GENERATING')",
        params, EventType.SAFETY_PENDING, "jsonb_build_object('reason', upd.safety_reason, 'images', upd.image_count)");
  }

  /**
   * The current attempt finished with {@code images} and the check, made before anything was
   * written, allowed them: RUNNING → COMPLETED in one statement, recording their keys and the GPU
   * time as {@link #hold} does, with the {@code completed} event {@link #allow} writes (no
   * {@code safety_pending} event: the request never waited). Empty if the attempt is not current.
   */
  public Future<Optional<RequestLog.Change>> complete(String id, int attempt, List<StoredImage> images, long gpuMs,
      JsonArray paths, JsonObject safety) {
    JsonObject data = new JsonObject().put("images", paths).put("safety", safety);
    Tuple params = Tuple.of(id, attempt, images.size(), StoredImage.toJson(images), data);
    params.addLong(gpuMs);
    return log.transition(
        "UPDATE requests SET status = 'COMPLETED', image_count = $3, images = $4::jsonb, gpu_ms = $6,"
            + " started_at = coalesce(started_at, assigned_at), completed_at = now(), updated_at = now(),"
            + " error_code = NULL, error_message = NULL, safety_reason = NULL, safety_pending_at = NULL,"
            + " safety_next_check_at = NULL, safety_alerted_at = NULL, last_event_seq = last_event_seq + 1"
            + " WHERE id = $1 AND attempt = $2 AND status IN ('ASSIGNED', 'GENERATING')",
        params, EventType.COMPLETED, "$5::jsonb");
  }

  /** The check allowed the images: COMPLETED, with a {@code completed} event carrying the images and the verdict. */
  public Future<Optional<RequestLog.Change>> allow(String id, int attempt, JsonArray images, JsonObject safety) {
    JsonObject data = new JsonObject().put("images", images).put("safety", safety);
    return log.transition(
        "UPDATE requests SET status = 'COMPLETED', completed_at = now(), updated_at = now(), error_code = NULL,"
            + " error_message = NULL, safety_reason = NULL, safety_next_check_at = NULL,"
            + " last_event_seq = last_event_seq + 1"
            + " WHERE id = $1 AND attempt = $2 AND status = " + PENDING,
        Tuple.of(id, attempt, data), EventType.COMPLETED, "$3::jsonb");
  }

  /** The check blocked the request: FAILED with code {@value #BLOCKED}; the event lists the reasons. */
  public Future<Optional<RequestLog.Change>> block(String id, int attempt, List<String> reasons) {
    String message = BLOCKED + ": " + String.join("; ", reasons);
    JsonObject data = new JsonObject().put("code", BLOCKED).put("message", message)
        .put("safety", new JsonObject().put("verdict", "block").put("reasons", new JsonArray(new ArrayList<>(reasons))));
    return log.transition(
        "UPDATE requests SET status = 'FAILED', error_code = $3, error_message = $4, completed_at = now(),"
            + " updated_at = now(), safety_reason = NULL, safety_next_check_at = NULL,"
            + " last_event_seq = last_event_seq + 1"
            + " WHERE id = $1 AND attempt = $2 AND status = " + PENDING,
        Tuple.of(id, attempt, BLOCKED, message, data), EventType.FAILED, "$5::jsonb");
  }

  /**
   * The check could not be made: the request keeps waiting until {@code nextCheckAt}. A new
   * reason appends a {@code safety_pending} event (the user learns why it waits); the same
   * reason again appends nothing. Empty when the request no longer waits for this attempt.
   */
  public Future<Optional<RequestLog.Change>> waiting(String id, int attempt, String reason, Instant nextCheckAt) {
    return log.transition(
        "UPDATE requests SET safety_reason = $3, safety_next_check_at = $4, updated_at = now(),"
            + " last_event_seq = last_event_seq + 1"
            + " WHERE id = $1 AND attempt = $2 AND status = " + PENDING + " AND safety_reason IS DISTINCT FROM $3",
        Tuple.of(id, attempt, reason, at(nextCheckAt)), EventType.SAFETY_PENDING,
        "jsonb_build_object('reason', upd.safety_reason, 'images', upd.image_count)")
        .compose(changed -> changed.isPresent() ? Future.succeededFuture(changed)
            : pool.preparedQuery("UPDATE requests SET safety_next_check_at = $3"
                    + " WHERE id = $1 AND attempt = $2 AND status = " + PENDING)
                .execute(Tuple.of(id, attempt, at(nextCheckAt)))
                .map(Optional.empty()));
  }

  /**
   * Takes up to {@code limit} waiting requests that are due ({@code safety_next_check_at <= now})
   * for this node: moves their next check to {@code claimUntil} first, skipping rows another node
   * holds, so that two nodes never check one request at once. Oldest first. Held results
   * (docs/architecture.md, "Held results") are not due: their release checks them.
   */
  public Future<List<RequestRow>> takeDue(Instant now, Instant claimUntil, int limit) {
    return log.rows("UPDATE requests SET safety_next_check_at = $2 WHERE id IN ("
            + " SELECT id FROM requests WHERE status = " + PENDING + " AND (safety_next_check_at IS NULL OR safety_next_check_at <= $1)"
            + " AND NOT EXISTS (SELECT 1 FROM held_results h WHERE h.request_id = requests.id)"
            + " ORDER BY safety_next_check_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)"
            + " AND status = " + PENDING + " RETURNING " + RequestRow.COLUMNS,
        Tuple.of(at(now), at(claimUntil), limit));
  }

  /**
   * Requests waiting since before {@code cutoff} and not alerted yet, marked alerted in the same
   * statement: of several nodes, exactly one raises each alert.
   */
  public Future<List<Overdue>> takeOverdue(Instant cutoff, Instant now) {
    return pool.preparedQuery("UPDATE requests SET safety_alerted_at = $2"
            + " WHERE status = " + PENDING + " AND safety_alerted_at IS NULL AND safety_pending_at <= $1"
            + " AND NOT EXISTS (SELECT 1 FROM held_results h WHERE h.request_id = requests.id)"
            + " RETURNING id, safety_pending_at")
        .execute(Tuple.of(at(cutoff), at(now)))
        .map(rows -> {
          List<Overdue> out = new ArrayList<>(rows.size());
          for (Row row : rows) {
            out.add(new Overdue(row.getString("id"), RequestRow.instant(row, "safety_pending_at")));
          }
          return out;
        });
  }

  /** How many requests of the region wait for their check. */
  public Future<Long> pendingCount() {
    return pool.query("SELECT count(*) AS n FROM requests WHERE status = " + PENDING).execute()
        .map(rows -> rows.iterator().next().getLong("n"));
  }

  private static OffsetDateTime at(Instant instant) {
    return instant.atOffset(ZoneOffset.UTC);
  }
}
