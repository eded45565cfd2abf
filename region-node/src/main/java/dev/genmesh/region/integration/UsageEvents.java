package dev.genmesh.region.integration;

import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.EventType;
import dev.genmesh.protocol.ProgressEvent;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.region.requests.impl.GroupCommit;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Usage events for billing (docs/event-bus.md, {@code genmesh.usage}): one per request that reached
 * COMPLETED or FAILED. The node that committed the transition publishes it right after the commit
 * and marks the row ({@code usage_published_at}); a sweep, every {@code bridge.usage_resend_after_ms},
 * publishes again what a dying node left unmarked. So each finished request's event goes out at
 * least once (twice at worst: a node dead between publish and mark, or a request finished by two
 * regions around a failover); {@code dedupe_key}, the request id, lets a consumer drop the second.
 *
 * <p>Per request this costs no transaction of its own (docs/architecture.md, "What is committed when"):
 * the event is built from the row the terminal change returned, and the marks of up to a second
 * (a quarter of the resend delay at most) go as one {@code UPDATE ... WHERE id = ANY} through the
 * request log's group commit. A node that dies in that second has its events sent again by the sweep.
 */
public final class UsageEvents {
  private static final Logger LOG = LoggerFactory.getLogger(UsageEvents.class);
  private static final String MARK = "UPDATE requests SET usage_published_at = now() WHERE id = ANY($1)";
  private static final long MARK_DELAY_MS = 1000;
  private static final int SWEEP_BATCH = 100;

  private final RegionContext ctx;
  private final Pool pool;
  private final GroupCommit writes;
  private final long resendAfterMs;
  private final Counter published;
  private final Counter resent;
  private final Counter failed;
  private long timer = -1;
  /** Ids published and not yet marked; guarded by {@code this}. */
  private final Set<String> unmarked = new LinkedHashSet<>();
  private boolean markScheduled;
  private long markTimer = -1;
  /** How long a published id waits for others to share its mark: well under the resend delay. */
  private final long markDelayMs;

  public UsageEvents(RegionContext ctx, Pool pool) {
    this.ctx = ctx;
    this.pool = pool;
    this.writes = ctx.log().writes();
    this.resendAfterMs = ctx.config().bridge().usageResendAfterMs();
    this.markDelayMs = Math.max(1, Math.min(MARK_DELAY_MS, resendAfterMs / 4));
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

  /** Stops the sweep and the marks still waiting: their requests' events go again from the next sweep. */
  public void stop() {
    if (timer >= 0) {
      ctx.vertx().cancelTimer(timer);
    }
    if (markTimer >= 0) {
      ctx.vertx().cancelTimer(markTimer);
    }
  }

  private void committed(ProgressEvent event, RequestRow changed) {
    if (event.type() != EventType.COMPLETED && event.type() != EventType.FAILED) {
      return;
    }
    String id = event.requestId();
    // The row as the terminal change returned it, else read (through the group commit: no transaction of its own).
    Future<RequestRow> row = changed != null && finished(changed) ? Future.succeededFuture(changed)
        : writes.execute("read", "SELECT * FROM requests WHERE id = $1", Tuple.of(id)).compose(rows -> rows.size() == 0
            ? Future.failedFuture(new IllegalStateException("no row in the request log"))
            : Future.succeededFuture(RequestRow.from(rows.iterator().next())));
    row.onSuccess(r -> {
      ctx.vertx().eventBus().publish(Addresses.USAGE, body(r));
      published.increment();
      mark(id);
    }).onFailure(err -> {
      failed.increment();
      LOG.warn("[{}] usage event not published (the sweep sends it): {}", id, err.toString());
    });
  }

  private static boolean finished(RequestRow row) {
    return row.status() == RequestStatus.COMPLETED || row.status() == RequestStatus.FAILED;
  }

  /**
   * Marks {@code id} published, after a short delay, with every id published meanwhile: one
   * statement per {@link #markDelayMs} at most, joining the group commit, instead of one per request.
   */
  private void mark(String id) {
    synchronized (this) {
      unmarked.add(id);
      if (markScheduled) {
        return;
      }
      markScheduled = true;
    }
    markTimer = ctx.vertx().setTimer(markDelayMs, t -> markWaiting());
  }

  private void markWaiting() {
    String[] ids;
    synchronized (this) {
      ids = unmarked.toArray(String[]::new);
      unmarked.clear();
    }
    writes.execute("usage_mark", MARK, Tuple.of((Object) ids)).onComplete(ar -> {
      if (ar.failed()) {
        failed.increment();
        LOG.warn("usage events of {} requests published but not marked (the sweep sends them again): {}", ids.length,
            ar.cause().toString());
      }
      boolean again;
      synchronized (this) {
        again = !unmarked.isEmpty();
        markScheduled = again;
      }
      if (again) {
        markTimer = ctx.vertx().setTimer(markDelayMs, t -> markWaiting());
      }
    });
  }

  /** Publishes, then marks, the finished requests left unmarked for longer than the resend delay. */
  Future<Integer> sweep() {
    return pool.withTransaction(conn -> conn.preparedQuery("SELECT * FROM requests"
            + " WHERE usage_published_at IS NULL AND status IN ('COMPLETED', 'FAILED')"
            + " AND updated_at < now() - make_interval(secs => $1) ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED")
        .execute(Tuple.of(resendAfterMs / 1000.0, SWEEP_BATCH))
        .compose(rows -> resend(conn, rows)));
  }

  private Future<Integer> resend(SqlConnection conn, RowSet<Row> rows) {
    List<String> ids = new ArrayList<>();
    for (Row row : rows) {
      ctx.vertx().eventBus().publish(Addresses.USAGE, body(RequestRow.from(row)));
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

  private JsonObject body(RequestRow row) {
    Instant started = row.startedAt();
    Instant finished = firstOf(row.completedAt(), row.updatedAt());
    Instant generated = firstOf(row.safetyPendingAt(), finished);
    // GPU time of the attempt that ended: the worker's share of its batch (gpu_ms, what GPU quotas count) when it
    // reported one, else its denoising run from the log's times, never the safety check after it.
    Long gpuMs = row.gpuMs();
    double gpuSeconds = gpuMs != null ? gpuMs / 1000.0 : started == null || generated == null ? 0.0
        : Math.max(0, Duration.between(started, generated).toMillis()) / 1000.0;
    boolean completed = row.status() == RequestStatus.COMPLETED;
    Integer images = row.imageCount();
    // The spec only when the row has no image count (the spec is read from its column when first asked).
    Integer batchSize = !completed || images != null || row.spec() == null ? null : row.spec().getInteger("batch_size");
    return new JsonObject()
        .put("request_id", row.id())
        .put("dedupe_key", row.id())
        .put("status", completed ? EventType.COMPLETED.wireName() : EventType.FAILED.wireName())
        .put("region", ctx.region())
        .put("user", row.userId())
        .put("tier", row.tier().wireName())
        .put("model", row.model())
        .put("gpu_class", row.gpuClass())
        .put("worker_id", row.workerId())
        .put("gpu_seconds", gpuSeconds)
        .put("images", completed ? (images != null ? images : batchSize) : 0)
        .put("attempts", row.attempt())
        .put("error_code", completed ? null : row.errorCode())
        .put("time", finished == null ? null : finished.toString());
  }

  private static Instant firstOf(Instant... times) {
    for (Instant time : times) {
      if (time != null) {
        return time;
      }
    }
    return null;
  }
}
