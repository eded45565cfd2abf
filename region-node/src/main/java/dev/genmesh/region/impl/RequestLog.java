package dev.genmesh.region.impl;

import dev.genmesh.protocol.EventType;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.ProgressEvent;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The Postgres request log. Every status change and its event are written by one statement
 * (a CTE), so the log never holds a status without its event or the other way round; status
 * changes of running requests compare-and-set on {@code attempt} (DESIGN.md I3).
 */
public final class RequestLog {
  private static final String RUNNING = "('ASSIGNED', 'GENERATING')";

  /** A status change and the event it appended. */
  public record Change(RequestRow row, ProgressEvent event) {}

  /** The outcome of a submit: the row (new, or the first one with this idempotency key). */
  public record Submitted(RequestRow row, Optional<ProgressEvent> queuedEvent) {
    public boolean created() {
      return queuedEvent.isPresent();
    }
  }

  private final Pool pool;

  public RequestLog(Pool pool) {
    this.pool = pool;
  }

  public Future<Void> ping() {
    return pool.query("SELECT 1").execute().mapEmpty();
  }

  /**
   * Inserts a QUEUED row and its {@code queued} event (seq 1) in one statement, committed when
   * the future succeeds. A known idempotency key inserts nothing and answers the first row.
   */
  public Future<Submitted> submit(String id, GenerationSpec spec, String idempotencyKey, Long position) {
    String sql = "WITH ins AS ("
        + " INSERT INTO requests (id, idempotency_key, tier, model, spec, status, priority, attempt, retry_count,"
        + "   last_event_seq, created_at, queued_at, updated_at)"
        + " VALUES ($1, $2, $3, $4, $5::jsonb, 'QUEUED', 0, 0, 0, 1, now(), now(), now())"
        + " ON CONFLICT (idempotency_key) DO NOTHING RETURNING *),"
        + " ev AS (INSERT INTO request_events (request_id, seq, type, data, created_at)"
        + "   SELECT id, 1, 'queued', $6::jsonb, created_at FROM ins"
        + "   RETURNING request_id, seq, type, data, created_at)"
        + " SELECT ins.*, ev.seq AS ev_seq, ev.type AS ev_type, ev.data AS ev_data, ev.created_at AS ev_time"
        + " FROM ins JOIN ev ON ev.request_id = ins.id";
    JsonObject data = new JsonObject().put("position", position);
    Tuple params = Tuple.of(id, idempotencyKey, spec.tier().wireName(), spec.model(), spec.toJson(), data);
    return pool.preparedQuery(sql).execute(params).compose(rows -> {
      if (rows.size() > 0) {
        Row row = rows.iterator().next();
        return Future.succeededFuture(new Submitted(RequestRow.from(row), Optional.of(event(row))));
      }
      return pool.preparedQuery("SELECT * FROM requests WHERE idempotency_key = $1").execute(Tuple.of(idempotencyKey))
          .map(existing -> {
            if (existing.size() == 0) {
              throw new IllegalStateException("idempotency key conflict without a row for request " + id);
            }
            return new Submitted(RequestRow.from(existing.iterator().next()), Optional.empty());
          });
    });
  }

  public Future<Optional<RequestRow>> find(String id) {
    return pool.preparedQuery("SELECT * FROM requests WHERE id = $1").execute(Tuple.of(id)).map(RequestLog::first);
  }

  /**
   * QUEUED → ASSIGNED for this worker, attempt + 1. Empty when the row is not QUEUED any more
   * or its model is not in {@code models} (an empty list accepts every model).
   */
  public Future<Optional<Change>> assign(String id, String workerId, List<String> models) {
    String modelFilter = models.isEmpty() ? "" : " AND model = ANY($3)";
    Tuple params = Tuple.of(id, workerId);
    if (!models.isEmpty()) {
      params.addArrayOfString(models.toArray(new String[0]));
    }
    return transition(
        "UPDATE requests SET status = 'ASSIGNED', attempt = attempt + 1, worker_id = $2, assigned_at = now(),"
            + " started_at = NULL, updated_at = now(), last_event_seq = last_event_seq + 1"
            + " WHERE id = $1 AND status = 'QUEUED'" + modelFilter,
        params, EventType.ASSIGNED, "jsonb_build_object('worker', upd.worker_id, 'attempt', upd.attempt)");
  }

  /** A step of the current attempt: ASSIGNED → GENERATING on the first one. Empty if stale. */
  public Future<Optional<Change>> step(String id, int attempt, JsonObject data) {
    return transition(
        "UPDATE requests SET status = 'GENERATING', started_at = coalesce(started_at, now()), updated_at = now(),"
            + " last_event_seq = last_event_seq + 1"
            + " WHERE id = $1 AND attempt = $2 AND status IN " + RUNNING,
        Tuple.of(id, attempt, data), EventType.STEP, "$3::jsonb");
  }

  /** The current attempt finished: COMPLETED with its images. Empty if the attempt is stale. */
  public Future<Optional<Change>> complete(String id, int attempt, JsonArray images) {
    return transition(
        "UPDATE requests SET status = 'COMPLETED', image_count = $3, started_at = coalesce(started_at, assigned_at),"
            + " completed_at = now(), updated_at = now(), error_code = NULL, error_message = NULL,"
            + " last_event_seq = last_event_seq + 1"
            + " WHERE id = $1 AND attempt = $2 AND status IN " + RUNNING,
        Tuple.of(id, attempt, images.size(), new JsonObject().put("images", images)), EventType.COMPLETED, "$4::jsonb");
  }

  /** The current attempt failed: FAILED with the reason. Empty if the attempt is stale. */
  public Future<Optional<Change>> fail(String id, int attempt, String code, String message) {
    return transition(
        "UPDATE requests SET status = 'FAILED', error_code = $3, error_message = $4, completed_at = now(),"
            + " updated_at = now(), last_event_seq = last_event_seq + 1"
            + " WHERE id = $1 AND attempt = $2 AND status IN " + RUNNING,
        Tuple.of(id, attempt, code, message), EventType.FAILED,
        "jsonb_build_object('code', upd.error_code, 'message', upd.error_message)");
  }

  /** A running attempt lost its worker: back to QUEUED, attempt kept, original queue time kept. */
  public Future<Optional<Change>> requeue(String id, int attempt) {
    return transition(
        "UPDATE requests SET status = 'QUEUED', worker_id = NULL, assigned_at = NULL, started_at = NULL,"
            + " updated_at = now(), last_event_seq = last_event_seq + 1"
            + " WHERE id = $1 AND attempt = $2 AND status IN " + RUNNING,
        Tuple.of(id, attempt), EventType.QUEUED, "jsonb_build_object('position', NULL)");
  }

  public Future<List<ProgressEvent>> eventsAfter(String id, long afterSeq) {
    return pool.preparedQuery("SELECT request_id, seq AS ev_seq, type AS ev_type, data AS ev_data, created_at AS ev_time"
            + " FROM request_events WHERE request_id = $1 AND seq > $2 ORDER BY seq")
        .execute(Tuple.of(id, afterSeq))
        .map(rows -> {
          List<ProgressEvent> events = new ArrayList<>(rows.size());
          rows.forEach(row -> events.add(event(row)));
          return events;
        });
  }

  /** QUEUED rows in id order, one page after {@code afterId} (empty string: from the start). */
  public Future<List<RequestRow>> queuedPage(String afterId, int limit) {
    return rows("SELECT * FROM requests WHERE status = 'QUEUED' AND id > $1 ORDER BY id LIMIT $2", Tuple.of(afterId, limit));
  }

  /** Every request a worker holds (or held before a crash). */
  public Future<List<RequestRow>> running() {
    return rows("SELECT * FROM requests WHERE status IN " + RUNNING + " ORDER BY id", Tuple.tuple());
  }

  private Future<List<RequestRow>> rows(String sql, Tuple params) {
    return pool.preparedQuery(sql).execute(params).map(rows -> {
      List<RequestRow> out = new ArrayList<>(rows.size());
      rows.forEach(row -> out.add(RequestRow.from(row)));
      return out;
    });
  }

  /**
   * Runs {@code update} (which must bump last_event_seq) and appends one event numbered with the
   * new last_event_seq, in one statement. {@code dataSql} may use the updated row as {@code upd}.
   */
  private Future<Optional<Change>> transition(String update, Tuple params, EventType type, String dataSql) {
    String sql = "WITH upd AS (" + update + " RETURNING *),"
        + " ev AS (INSERT INTO request_events (request_id, seq, type, data, created_at)"
        + "   SELECT upd.id, upd.last_event_seq, '" + type.wireName() + "', " + dataSql + ", now() FROM upd"
        + "   RETURNING request_id, seq, type, data, created_at)"
        + " SELECT upd.*, ev.seq AS ev_seq, ev.type AS ev_type, ev.data AS ev_data, ev.created_at AS ev_time"
        + " FROM upd JOIN ev ON ev.request_id = upd.id";
    return pool.preparedQuery(sql).execute(params).map(rows -> {
      if (rows.size() == 0) {
        return Optional.empty();
      }
      Row row = rows.iterator().next();
      return Optional.of(new Change(RequestRow.from(row), event(row)));
    });
  }

  private static Optional<RequestRow> first(RowSet<Row> rows) {
    return rows.size() == 0 ? Optional.empty() : Optional.of(RequestRow.from(rows.iterator().next()));
  }

  private static ProgressEvent event(Row row) {
    JsonObject data = row.getJsonObject("ev_data");
    return new ProgressEvent(
        row.getString(row.getColumnIndex("request_id") >= 0 ? "request_id" : "id"),
        row.getLong("ev_seq"),
        EventType.fromWire(row.getString("ev_type")),
        RequestRow.instant(row, "ev_time"),
        data == null ? new JsonObject() : data);
  }
}
