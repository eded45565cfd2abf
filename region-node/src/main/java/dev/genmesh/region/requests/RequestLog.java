package dev.genmesh.region.requests;

import dev.genmesh.protocol.EventType;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.ProgressEvent;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.protocol.Tier;
import dev.genmesh.region.queue.RetryPolicy;
import dev.genmesh.region.requests.impl.GroupCommit;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Postgres request log. Every status change and its event are written by one statement
 * (a CTE), so the log never holds a status without its event or the other way round; status
 * changes of running requests compare-and-set on {@code attempt} (docs/architecture.md, I3).
 * Status changes (and {@link #find}) share transactions through the pool's {@link GroupCommit}; each
 * one's future completes after the commit that holds it (docs/architecture.md, "What is committed
 * when").
 */
public final class RequestLog {
  private static final String RUNNING = "('ASSIGNED', 'GENERATING')";
  /** Reads rows of the table as {@link RequestRow#from} wants them (the jsonb columns as text). */
  private static final String SELECT_ROWS = "SELECT " + RequestRow.COLUMNS + " FROM requests";
  /** Distinct transition statements kept built; the log has a few dozen. */
  private static final int SHAPES_KEPT = 256;
  /** Each transition's SQL, built once: one string per statement, so the statement cache finds it by identity. */
  private static final Map<Shape, String> SHAPES = new ConcurrentHashMap<>();

  private record Shape(String update, EventType type, String dataSql) {}

  /** A status change and the event it appended. */
  public record Change(RequestRow row, ProgressEvent event) {}

  /** The outcome of a submit: the row (new, or the first one with this idempotency key). */
  public record Submitted(RequestRow row, Optional<ProgressEvent> queuedEvent) {
    public boolean created() {
      return queuedEvent.isPresent();
    }
  }

  private final Pool pool;
  private final GroupCommit writes;

  public RequestLog(Pool pool) {
    this(pool, 0);
  }

  /** @param lingerMicros the group commit's linger ({@code queue.commit_linger_us}; 0: none) */
  public RequestLog(Pool pool, long lingerMicros) {
    this.pool = pool;
    this.writes = new GroupCommit(pool, lingerMicros);
  }

  /** The batching writer every status change goes through (its counters feed the metrics). */
  public GroupCommit writes() {
    return writes;
  }

  public Future<Void> ping() {
    return pool.query("SELECT 1").execute().mapEmpty();
  }

  /**
   * Inserts a QUEUED row and its {@code queued} event (seq 1, {@code queuedData}) in one statement,
   * committed when the future succeeds. A known idempotency key inserts nothing and answers the
   * first row.
   */
  public Future<Submitted> submit(String id, GenerationSpec spec, String idempotencyKey, String user, JsonObject queuedData) {
    return submit(id, spec, idempotencyKey, user, queuedData, null);
  }

  /** As above, recording the request's routing class ({@code Routing.requestClass}; null: any GPU). */
  public Future<Submitted> submit(String id, GenerationSpec spec, String idempotencyKey, String user, JsonObject queuedData,
      String requestClass) {
    return submit(id, spec, idempotencyKey, user, queuedData, requestClass, null);
  }

  /** As above, with what the idempotency key is for ({@code RequestHash}; null: nothing to compare a retry with). */
  public Future<Submitted> submit(String id, GenerationSpec spec, String idempotencyKey, String user, JsonObject queuedData,
      String requestClass, String requestHash) {
    return submit(id, spec, idempotencyKey, user, queuedData, requestClass, requestHash, 0, null);
  }

  /**
   * As above, at {@code priority} (negative: behind others of its tier; the edge's deprioritised heavy relax users) and
   * with the W3C traceparent of the submit (null: not traced), for the worker's spans.
   */
  public Future<Submitted> submit(String id, GenerationSpec spec, String idempotencyKey, String user, JsonObject queuedData,
      String requestClass, String requestHash, int priority, String traceParent) {
    String sql = "WITH ins AS ("
        + " INSERT INTO requests (id, idempotency_key, tier, model, spec, status, priority, attempt, retry_count,"
        + "   last_event_seq, created_at, queued_at, updated_at, user_id, request_class, request_hash,"
        + "   trace_parent)"
        + " VALUES ($1, $2, $3, $4, $5::jsonb, 'QUEUED', $10, 0, 0, 1, now(), now(), now(), $7, $8, $9, $11)"
        + " ON CONFLICT (idempotency_key) DO NOTHING RETURNING " + RequestRow.COLUMNS + "),"
        + " ev AS (INSERT INTO request_events (request_id, seq, type, data, created_at)"
        + "   SELECT id, 1, 'queued', $6::jsonb, created_at FROM ins"
        + "   RETURNING request_id, seq, type, data, created_at)"
        + " SELECT ins.*, ev.seq AS ev_seq, ev.type AS ev_type, ev.data AS ev_data, ev.created_at AS ev_time"
        + " FROM ins JOIN ev ON ev.request_id = ins.id";
    Tuple params = Tuple.of(id, idempotencyKey, spec.tier().wireName(), spec.model(), spec.toJson(), queuedData, user);
    params.addString(requestClass).addString(requestHash).addInteger(priority).addString(traceParent);
    return writes.execute("submit", sql, params).compose(rows -> {
      if (rows.size() > 0) {
        Row row = rows.iterator().next();
        return Future.succeededFuture(new Submitted(RequestRow.from(row), Optional.of(event(row))));
      }
      return pool.preparedQuery(SELECT_ROWS + " WHERE idempotency_key = $1").execute(Tuple.of(idempotencyKey))
          .map(existing -> {
            if (existing.size() == 0) {
              throw new IllegalStateException("idempotency key conflict without a row for request " + id);
            }
            return new Submitted(RequestRow.from(existing.iterator().next()), Optional.empty());
          });
    });
  }

  /** The request first submitted with this idempotency key, if any. */
  public Future<Optional<RequestRow>> findByIdempotencyKey(String idempotencyKey) {
    return pool.preparedQuery(SELECT_ROWS + " WHERE idempotency_key = $1").execute(Tuple.of(idempotencyKey))
        .map(RequestLog::first);
  }

  /**
   * The request as of the next group transaction: it sees every change committed before it was
   * asked, and joins the writes of that transaction instead of a transaction of its own.
   */
  public Future<Optional<RequestRow>> find(String id) {
    return writes.execute("read", SELECT_ROWS + " WHERE id = $1", Tuple.of(id)).map(RequestLog::first);
  }

  /**
   * QUEUED → ASSIGNED for this worker, attempt + 1. Empty when the row is not QUEUED any more
   * or its model is not in {@code models} (an empty list accepts every model).
   */
  public Future<Optional<Change>> assign(String id, String workerId, List<String> models, long freeVramMb) {
    return assign(id, workerId, null, models, freeVramMb);
  }

  /** As above, recording the worker's GPU class (the pool whose service time this attempt measures). */
  public Future<Optional<Change>> assign(String id, String workerId, String gpuClass, List<String> models, long freeVramMb) {
    String modelFilter = models.isEmpty() ? "" : " AND model = ANY($5)";
    Tuple params = Tuple.of(id, workerId, freeVramMb > 0 ? freeVramMb : null, gpuClass);
    if (!models.isEmpty()) {
      params.addArrayOfString(models.toArray(new String[0]));
    }
    return transition(
        "UPDATE requests SET status = 'ASSIGNED', attempt = attempt + 1, worker_id = $2, gpu_class = $4, assigned_at = now(),"
            + " started_at = NULL, not_before = NULL, assigned_vram_mb = $3::bigint, updated_at = now(),"
            + " last_event_seq = last_event_seq + 1"
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

  /** The current attempt failed: FAILED with the reason. Empty if the attempt is stale. */
  public Future<Optional<Change>> fail(String id, int attempt, String code, String message) {
    return transition(
        "UPDATE requests SET status = 'FAILED', error_code = $3, error_message = $4, completed_at = now(),"
            + " updated_at = now(), last_event_seq = last_event_seq + 1"
            + " WHERE id = $1 AND attempt = $2 AND status IN " + RUNNING,
        Tuple.of(id, attempt, code, message), EventType.FAILED,
        "jsonb_build_object('code', upd.error_code, 'message', upd.error_message)");
  }

  /**
   * The current attempt ended without a result and the policy retries it: back to QUEUED with the
   * new retry count, the priority boost, the backoff end, the last error and the routing hints
   * (an OOM retry also runs with {@code batch_size = 1}). Empty if the attempt is stale.
   */
  public Future<Optional<Change>> retry(String id, int attempt, RetryPolicy.Decision decision, JsonObject eventData) {
    Tuple params = Tuple.of(id, attempt, decision.retryCount(), decision.priorityBoost(),
        decision.notBefore() == null ? null : decision.notBefore().atOffset(ZoneOffset.UTC), decision.code());
    params.addString(decision.message());
    params.addBoolean(decision.batchOfOne());
    params.addLong(decision.minVramMb());
    params.addString(decision.excludeWorker());
    params.addValue(eventData);
    return transition(
        "UPDATE requests SET status = 'QUEUED', retry_count = $3, priority = priority + $4, not_before = $5,"
            + " error_code = $6, error_message = $7, worker_id = NULL, assigned_at = NULL, started_at = NULL,"
            + " spec = CASE WHEN $8 THEN jsonb_set(spec, '{batch_size}', '1'::jsonb) ELSE spec END,"
            + " hint_min_vram_mb = coalesce($9::bigint, hint_min_vram_mb),"
            + " excluded_workers = CASE WHEN $10::text IS NULL THEN excluded_workers"
            + "   ELSE array_append(excluded_workers, $10::text) END,"
            + " updated_at = now(), last_event_seq = last_event_seq + 1"
            + " WHERE id = $1 AND attempt = $2 AND status IN " + RUNNING,
        params, EventType.QUEUED, "$11::jsonb");
  }

  /** A cancel that took effect: the change and the status the request had before. */
  public record Cancelled(Change change, RequestStatus previous) {}

  /**
   * Any non-terminal status → CANCELLED, with a {@code cancelled} event. The row lock is taken
   * first, so {@code previous} is the status the cancel replaced. Empty if the request is unknown
   * or already ended.
   */
  public Future<Optional<Cancelled>> cancel(String id) {
    String sql = "WITH old AS (SELECT id, status AS previous FROM requests WHERE id = $1 FOR UPDATE),"
        + " upd AS (UPDATE requests SET status = 'CANCELLED', completed_at = now(), updated_at = now(),"
        + "   last_event_seq = last_event_seq + 1"
        + "   WHERE id = (SELECT id FROM old) AND status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED', 'ADOPTED')"
        + "   RETURNING " + RequestRow.COLUMNS + "),"
        + " ev AS (INSERT INTO request_events (request_id, seq, type, data, created_at)"
        + "   SELECT upd.id, upd.last_event_seq, 'cancelled',"
        + "     jsonb_build_object('previous', lower((SELECT previous FROM old))), now() FROM upd"
        + "   RETURNING request_id, seq, type, data, created_at)"
        + " SELECT upd.*, (SELECT previous FROM old) AS previous,"
        + "   ev.seq AS ev_seq, ev.type AS ev_type, ev.data AS ev_data, ev.created_at AS ev_time"
        + " FROM upd JOIN ev ON ev.request_id = upd.id";
    return writes.execute("cancelled", sql, Tuple.of(id)).map(rows -> {
      if (rows.size() == 0) {
        return Optional.empty();
      }
      Row row = rows.iterator().next();
      return Optional.of(new Cancelled(new Change(RequestRow.from(row), event(row)),
          RequestStatus.valueOf(row.getString("previous"))));
    });
  }

  // ---- circuit breakers (region-node/API.md, "Circuit breakers") ----

  /**
   * QUEUED requests of {@code model} that allow a fallback, oldest first. Read by the sweep that
   * moves them while the model's breaker is open.
   */
  public Future<List<RequestRow>> queuedWithFallback(String model, int limit) {
    return rows(SELECT_ROWS + " WHERE status = 'QUEUED' AND model = $1"
            + " AND spec @> '{\"allow_fallback\": true}'::jsonb ORDER BY queued_at, id LIMIT $2",
        Tuple.of(model, limit));
  }

  /**
   * A QUEUED request moves from model {@code from} to {@code to} (the spec's model too), with a
   * {@code fallback} event of {@code eventData}. Its different_worker exclusions go (they were
   * about the old model); priority, retry count and backoff stay. Empty unless it is still QUEUED
   * on {@code from}.
   */
  public Future<Optional<Change>> fallback(String id, String from, String to, JsonObject eventData) {
    return fallback(id, from, to, eventData, null);
  }

  /** As above, with the request class on the new model ({@code Routing.requestClass}; null: any GPU). */
  public Future<Optional<Change>> fallback(String id, String from, String to, JsonObject eventData, String requestClass) {
    return transition(
        "UPDATE requests SET model = $3, spec = jsonb_set(spec, '{model}', to_jsonb($3::text)), request_class = $5,"
            + " excluded_workers = '{}', updated_at = now(), last_event_seq = last_event_seq + 1"
            + " WHERE id = $1 AND status = 'QUEUED' AND model = $2",
        Tuple.of(id, from, to, eventData, requestClass), EventType.FALLBACK, "$4::jsonb");
  }

  /** The requests assigned to this worker that it has not started yet (no step reported). */
  public Future<List<RequestRow>> assignedNotStarted(String workerId) {
    return rows(SELECT_ROWS + " WHERE status = 'ASSIGNED' AND worker_id = $1 ORDER BY id", Tuple.of(workerId));
  }

  /**
   * ASSIGNED → QUEUED for a request its worker has not started (the worker's breaker opened):
   * the same attempt (the next claim runs it as attempt + 1, so the old worker's reports are
   * stale), retry count and priority unchanged, no backoff, with a {@code queued} event of
   * {@code eventData}. Empty if it started, moved on, or is not this worker's any more.
   */
  public Future<Optional<Change>> handBack(String id, int attempt, String workerId, JsonObject eventData) {
    return transition(
        "UPDATE requests SET status = 'QUEUED', worker_id = NULL, assigned_at = NULL, started_at = NULL,"
            + " not_before = NULL, updated_at = now(), last_event_seq = last_event_seq + 1"
            + " WHERE id = $1 AND attempt = $2 AND status = 'ASSIGNED' AND worker_id = $3",
        Tuple.of(id, attempt, workerId, eventData), EventType.QUEUED, "$4::jsonb");
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

  /**
   * QUEUED rows of one tier, oldest first, one page after ({@code afterQueuedAt}, {@code afterId});
   * a null {@code afterQueuedAt} starts at the beginning.
   */
  public Future<List<RequestRow>> queuedPage(Tier tier, Instant afterQueuedAt, String afterId, int limit) {
    return rows(SELECT_ROWS + " WHERE status = 'QUEUED' AND tier = $1"
            + " AND ($2::timestamptz IS NULL OR (queued_at, id) > ($2::timestamptz, $3))"
            + " ORDER BY queued_at, id LIMIT $4",
        Tuple.of(tier.wireName(), afterQueuedAt == null ? null : afterQueuedAt.atOffset(ZoneOffset.UTC), afterId, limit));
  }

  /** When the oldest QUEUED request of each tier was queued (tiers with none are left out). */
  public Future<Map<Tier, Instant>> oldestQueued() {
    StringBuilder sql = new StringBuilder("SELECT");
    for (Tier tier : Tier.values()) {
      sql.append(tier.ordinal() == 0 ? " " : ", ")
          .append("(SELECT min(queued_at) FROM requests WHERE status = 'QUEUED' AND tier = '")
          .append(tier.wireName()).append("') AS ").append(tier.wireName());
    }
    return pool.query(sql.toString()).execute().map(rows -> {
      Map<Tier, Instant> oldest = new EnumMap<>(Tier.class);
      Row row = rows.iterator().next();
      for (Tier tier : Tier.values()) {
        Instant at = RequestRow.instant(row, tier.wireName());
        if (at != null) {
          oldest.put(tier, at);
        }
      }
      return oldest;
    });
  }

  /** Every request a worker holds (or held before a crash). */
  public Future<List<RequestRow>> running() {
    return rows(SELECT_ROWS + " WHERE status IN " + RUNNING + " ORDER BY id", Tuple.tuple());
  }

  public Future<List<RequestRow>> rows(String sql, Tuple params) {
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
  public Future<Optional<Change>> transition(String update, Tuple params, EventType type, String dataSql) {
    Shape shape = new Shape(update, type, dataSql);
    String sql = SHAPES.get(shape);
    if (sql == null) {
      sql = transitionSql(shape);
      if (SHAPES.size() < SHAPES_KEPT) {
        sql = SHAPES.computeIfAbsent(shape, RequestLog::transitionSql);
      }
    }
    return writes.execute(type.wireName(), sql, params).map(rows -> {
      if (rows.size() == 0) {
        return Optional.empty();
      }
      Row row = rows.iterator().next();
      return Optional.of(new Change(RequestRow.from(row), event(row)));
    });
  }

  private static String transitionSql(Shape shape) {
    return "WITH upd AS (" + shape.update() + " RETURNING " + RequestRow.COLUMNS + "),"
        + " ev AS (INSERT INTO request_events (request_id, seq, type, data, created_at)"
        + "   SELECT upd.id, upd.last_event_seq, '" + shape.type().wireName() + "', " + shape.dataSql() + ", now() FROM upd"
        + "   RETURNING request_id, seq, type, data, created_at)"
        + " SELECT upd.*, ev.seq AS ev_seq, ev.type AS ev_type, ev.data AS ev_data, ev.created_at AS ev_time"
        + " FROM upd JOIN ev ON ev.request_id = upd.id";
  }

  private static Optional<RequestRow> first(RowSet<Row> rows) {
    return rows.size() == 0 ? Optional.empty() : Optional.of(RequestRow.from(rows.iterator().next()));
  }

  private static ProgressEvent event(Row row) {
    JsonObject data = row.getJsonObject("ev_data");
    int requestId = row.getColumnIndex("request_id");
    return new ProgressEvent(
        requestId >= 0 ? row.getString(requestId) : row.getString("id"),
        row.getLong("ev_seq"),
        EventType.fromWire(row.getString("ev_type")),
        RequestRow.instant(row, "ev_time"),
        data == null ? new JsonObject() : data);
  }
}
