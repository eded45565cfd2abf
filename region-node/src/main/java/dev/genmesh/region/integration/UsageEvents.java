package dev.genmesh.region.integration;

import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.EventType;
import dev.genmesh.protocol.ProgressEvent;
import dev.genmesh.region.node.RegionContext;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Usage events for billing (docs/event-bus.md, {@code genmesh.usage}): one per request that reached
 * COMPLETED or FAILED. The node that committed the transition publishes it right after the commit
 * and marks the row ({@code usage_published_at}); a sweep, every {@code bridge.usage_resend_after_ms},
 * publishes again what a dying node left unmarked. So each finished request's event goes out at
 * least once (twice at worst: a node dead between publish and mark, or a request finished by two
 * regions around a failover); {@code dedupe_key}, the request id, lets a consumer drop the second.
 */
public final class UsageEvents {
  private static final Logger LOG = LoggerFactory.getLogger(UsageEvents.class);
  private static final String COLUMNS = "id, user_id, tier, model, gpu_class, worker_id, status, attempt, image_count,"
      + " error_code, started_at, safety_pending_at, completed_at, updated_at, gpu_ms,"
      + " (spec->>'batch_size')::int AS batch_size";
  private static final int SWEEP_BATCH = 100;

  private final RegionContext ctx;
  private final Pool pool;
  private final long resendAfterMs;
  private final Counter published;
  private final Counter resent;
  private final Counter failed;
  private long timer = -1;

  public UsageEvents(RegionContext ctx, Pool pool) {
    this.ctx = ctx;
    this.pool = pool;
    this.resendAfterMs = ctx.config().bridge().usageResendAfterMs();
    this.published = counter("published");
    this.resent = counter("resent");
    this.failed = counter("not_published");
  }

  private Counter counter(String outcome) {
    return Counter.builder("genmesh_usage_events_total").tag("region", ctx.region()).tag("outcome", outcome)
        .description("Usage events on genmesh.usage: published at commit, resent by the sweep, not published")
        .register(ctx.meters());
  }

  /** Publishes usage for every terminal event this node commits from now on, and sweeps for lost ones. */
  public void start() {
    ctx.hub().onCommitted(this::committed);
    timer = ctx.vertx().setPeriodic(resendAfterMs, id -> sweep().onFailure(err -> {
      failed.increment();
      LOG.warn("region {}: usage sweep failed, trying again in {} ms: {}", ctx.region(), resendAfterMs, err.toString());
    }));
  }

  public void stop() {
    if (timer >= 0) {
      ctx.vertx().cancelTimer(timer);
    }
  }

  private void committed(ProgressEvent event) {
    if (event.type() != EventType.COMPLETED && event.type() != EventType.FAILED) {
      return;
    }
    pool.preparedQuery("SELECT " + COLUMNS + " FROM requests WHERE id = $1").execute(Tuple.of(event.requestId()))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(new IllegalStateException("no row in the request log"));
          }
          ctx.vertx().eventBus().publish(Addresses.USAGE, body(rows.iterator().next()));
          published.increment();
          return pool.preparedQuery("UPDATE requests SET usage_published_at = now() WHERE id = $1")
              .execute(Tuple.of(event.requestId()));
        })
        .onFailure(err -> {
          failed.increment();
          LOG.warn("[{}] usage event not published or not marked (the sweep sends it): {}", event.requestId(),
              err.toString());
        });
  }

  /** Publishes, then marks, the finished requests left unmarked for longer than the resend delay. */
  Future<Integer> sweep() {
    return pool.withTransaction(conn -> conn.preparedQuery("SELECT " + COLUMNS + " FROM requests"
            + " WHERE usage_published_at IS NULL AND status IN ('COMPLETED', 'FAILED')"
            + " AND updated_at < now() - make_interval(secs => $1) ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED")
        .execute(Tuple.of(resendAfterMs / 1000.0, SWEEP_BATCH))
        .compose(rows -> resend(conn, rows)));
  }

  private Future<Integer> resend(SqlConnection conn, RowSet<Row> rows) {
    List<String> ids = new ArrayList<>();
    for (Row row : rows) {
      ctx.vertx().eventBus().publish(Addresses.USAGE, body(row));
      ids.add(row.getString("id"));
    }
    if (ids.isEmpty()) {
      return Future.succeededFuture(0);
    }
    resent.increment(ids.size());
    LOG.info("region {}: usage events of {} finished requests sent again (not marked published)", ctx.region(), ids.size());
    return conn.preparedQuery("UPDATE requests SET usage_published_at = now() WHERE id = ANY($1)")
        .execute(Tuple.of(ids.toArray(String[]::new))).map(ids.size());
  }

  private JsonObject body(Row row) {
    OffsetDateTime started = row.getOffsetDateTime("started_at");
    OffsetDateTime finished = firstOf(row.getOffsetDateTime("completed_at"), row.getOffsetDateTime("updated_at"));
    OffsetDateTime generated = firstOf(row.getOffsetDateTime("safety_pending_at"), finished);
    // GPU time of the attempt that ended: the worker's share of its batch (gpu_ms, what GPU quotas count) when it
    // reported one, else its denoising run from the log's times, never the safety check after it.
    Long gpuMs = row.getLong("gpu_ms");
    double gpuSeconds = gpuMs != null ? gpuMs / 1000.0 : started == null || generated == null ? 0.0
        : Math.max(0, Duration.between(started, generated).toMillis()) / 1000.0;
    boolean completed = "COMPLETED".equals(row.getString("status"));
    Integer images = row.getInteger("image_count");
    return new JsonObject()
        .put("request_id", row.getString("id"))
        .put("dedupe_key", row.getString("id"))
        .put("status", completed ? EventType.COMPLETED.wireName() : EventType.FAILED.wireName())
        .put("region", ctx.region())
        .put("user", row.getString("user_id"))
        .put("tier", row.getString("tier"))
        .put("model", row.getString("model"))
        .put("gpu_class", row.getString("gpu_class"))
        .put("worker_id", row.getString("worker_id"))
        .put("gpu_seconds", gpuSeconds)
        .put("images", completed ? (images != null ? images : row.getInteger("batch_size")) : 0)
        .put("attempts", row.getInteger("attempt"))
        .put("error_code", completed ? null : row.getString("error_code"))
        .put("time", finished == null ? null : finished.toInstant().toString());
  }

  private static OffsetDateTime firstOf(OffsetDateTime... times) {
    for (OffsetDateTime time : times) {
      if (time != null) {
        return time;
      }
    }
    return null;
  }
}
