package dev.genmesh.region.failover.impl;

import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.ProgressEvent;
import dev.genmesh.protocol.Tier;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.region.scheduler.EtaEstimator;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Predicate;

/**
 * Takes a down region's open requests from its replica (schema {@code ward}) into this region's
 * own log, in one transaction behind an advisory lock: same ids, tier, priority, retry count,
 * attempt number and event history (numbers included), QUEUED again here, each with a
 * {@code region_failover} event. A request already in this log (adopted before) is left alone, so
 * a second decision adopts nothing twice.
 */
public final class Adoption {
  static final String OPEN = "('QUEUED', 'ASSIGNED', 'GENERATING', 'SAFETY_PENDING')";

  /** What one adoption did: the adopted rows (now QUEUED here) and their {@code region_failover} events. */
  public record Adopted(List<RequestRow> rows, List<ProgressEvent> events) {}

  private final Pool pool;
  private final String region;
  private final EtaEstimator eta;
  private final Predicate<String> modelServed;

  /**
   * @param region this (the adopting) region
   * @param modelServed whether a live worker here serves a model (else the event says the request waits for one)
   */
  public Adoption(Pool pool, String region, EtaEstimator eta, Predicate<String> modelServed) {
    this.pool = pool;
    this.region = region;
    this.eta = eta;
    this.modelServed = modelServed;
  }

  /**
   * @param from the down region, whose replica is schema {@code ward}
   * @param depths this region's queue depths now (for the positions the events report; empty: unknown)
   */
  public Future<Adopted> adopt(String from, String ward, String reason, Instant decidedAt, Map<Tier, Long> depths) {
    return pool.withTransaction(conn -> conn.preparedQuery("SELECT pg_advisory_xact_lock(hashtext($1))")
        .execute(Tuple.of("genmesh-adopt-" + ward))
        .compose(v -> conn.query("SELECT r.id, r.tier, r.spec, r.status FROM " + ward + ".requests r"
            + " WHERE r.status IN " + OPEN + " AND NOT EXISTS (SELECT 1 FROM requests o WHERE o.id = r.id)"
            + " ORDER BY r.priority DESC, r.queued_at, r.id").execute())
        .compose(candidates -> {
          if (candidates.size() == 0) {
            return Future.succeededFuture(new Adopted(List.of(), List.of()));
          }
          List<String> ids = new ArrayList<>();
          List<JsonObject> data = new ArrayList<>();
          Map<Tier, Long> seen = new EnumMap<>(Tier.class);
          for (Row row : candidates) {
            ids.add(row.getString("id"));
            data.add(eventData(from, reason, row, depths, seen));
          }
          return copy(conn, ward, from, reason, decidedAt, ids, data);
        }));
  }

  private JsonObject eventData(String from, String reason, Row row, Map<Tier, Long> depths, Map<Tier, Long> seen) {
    GenerationSpec spec = GenerationSpec.fromJson(row.getJsonObject("spec"));
    Tier tier = spec.tier();
    long before = seen.merge(tier, 1L, Long::sum) - 1;
    JsonObject data = new JsonObject().put("from", from).put("to", region).put("reason", reason)
        .put("previous_status", row.getString("status").toLowerCase(java.util.Locale.ROOT));
    if (!depths.isEmpty()) {
      long position = eta.position(tier, depths.getOrDefault(tier, 0L) + before, depths);
      OptionalLong etaMs = eta.etaMs(spec, position, 0);
      data.put("position", position).put("queue_position", position).put("eta_ms", etaMs.isPresent() ? etaMs.getAsLong() : null);
    }
    if (!modelServed.test(spec.model())) {
      data.put("waiting", "no worker in " + region + " serves " + spec.model() + " yet; the request waits in its queue");
    }
    return data;
  }

  /** The columns of this region's {@code table}, by name (quoted), in its own order. */
  private static Future<String> columns(SqlConnection conn, String table) {
    return conn.preparedQuery("SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)"
            + " FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1")
        .execute(Tuple.of(table)).map(rows -> rows.iterator().next().getString(0));
  }

  private static String prefixed(String alias, String columns) {
    return alias + columns.replace(", ", ", " + alias);
  }

  private Future<Adopted> copy(SqlConnection conn, String ward, String from, String reason, Instant decidedAt,
      List<String> ids, List<JsonObject> data) {
    String[] idArray = ids.toArray(new String[0]);
    // A temporary copy, so that every column comes across as it is (both schemas come from the same
    // migrations; copied by name, since their order may differ) and only what a new region must not keep is changed.
    return conn.preparedQuery("CREATE TEMP TABLE adopting ON COMMIT DROP AS SELECT * FROM " + ward
            + ".requests WHERE id = ANY($1)").execute(Tuple.of(idArray))
        .compose(v -> conn.query("UPDATE adopting a SET idempotency_key = NULL WHERE EXISTS"
            + " (SELECT 1 FROM requests o WHERE o.idempotency_key = a.idempotency_key)").execute())
        .compose(v -> conn.preparedQuery("UPDATE adopting SET status = 'QUEUED', worker_id = NULL, assigned_at = NULL,"
            + " started_at = NULL, not_before = NULL, assigned_vram_mb = NULL, gpu_class = NULL, images = NULL,"
            + " image_count = NULL, safety_pending_at = NULL, safety_next_check_at = NULL, safety_reason = NULL,"
            + " safety_alerted_at = NULL, images_swept_at = NULL, adopted_from = $1, adopted_by = NULL,"
            + " queued_at = now(), updated_at = now(), last_event_seq = last_event_seq + 1").execute(Tuple.of(from)))
        .compose(v -> columns(conn, "requests"))
        .compose(cols -> conn.query("INSERT INTO requests (" + cols + ") SELECT " + cols + " FROM adopting").execute())
        .compose(v -> columns(conn, "request_events"))
        .compose(cols -> conn.query("INSERT INTO request_events (" + cols + ") SELECT " + prefixed("e.", cols)
            + " FROM " + ward + ".request_events e JOIN adopting a ON a.id = e.request_id AND e.seq < a.last_event_seq")
            .execute())
        .compose(v -> conn.preparedQuery("INSERT INTO request_events (request_id, seq, type, data, created_at)"
                + " SELECT a.id, a.last_event_seq, 'region_failover', d.value, now()"
                + " FROM unnest($1::text[]) WITH ORDINALITY AS i(id, n)"
                + " JOIN jsonb_array_elements($2::jsonb) WITH ORDINALITY AS d(value, n) USING (n)"
                + " JOIN adopting a ON a.id = i.id")
            .execute(Tuple.of(idArray, new JsonArray(new ArrayList<>(data)))))
        .compose(v -> conn.preparedQuery("INSERT INTO adoptions (request_id, from_region, reason, decided_at)"
                + " SELECT id, $1, $2, $3 FROM adopting")
            .execute(Tuple.of(from, reason, decidedAt == null ? null : decidedAt.atOffset(ZoneOffset.UTC))))
        .compose(v -> conn.query("SELECT * FROM requests WHERE id IN (SELECT id FROM adopting)"
            + " ORDER BY priority DESC, queued_at, id").execute())
        .compose(rows -> {
          List<RequestRow> adopted = new ArrayList<>();
          rows.forEach(row -> adopted.add(RequestRow.from(row)));
          return conn.query("SELECT e.request_id, e.seq, e.type, e.data, e.created_at FROM request_events e"
              + " JOIN adopting a ON a.id = e.request_id AND e.seq = a.last_event_seq").execute()
              .map(events -> {
                List<ProgressEvent> out = new ArrayList<>();
                events.forEach(row -> out.add(new ProgressEvent(row.getString("request_id"), row.getLong("seq"),
                    dev.genmesh.protocol.EventType.REGION_FAILOVER, RequestRow.instant(row, "created_at"),
                    row.getJsonObject("data"))));
                return new Adopted(adopted, out);
              });
        });
  }
}
