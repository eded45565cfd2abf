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
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.OffsetDateTime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Usage events for billing (docs/event-bus.md, {@code genmesh.usage}): one per request that reached
 * COMPLETED or FAILED, published by the node that committed that transition, right after the
 * commit. The log commits a terminal transition once, so each request gets one event per region
 * that finished it; {@code request_id} is the dedupe key for the rare second one (a request
 * finished by two regions around a failover). A node that dies between the commit and the publish
 * loses that event (at most once): counted nowhere, noted in docs/event-bus.md.
 */
public final class UsageEvents {
  private static final Logger LOG = LoggerFactory.getLogger(UsageEvents.class);
  private static final String SQL = "SELECT id, user_id, tier, model, gpu_class, worker_id, status, attempt, retry_count,"
      + " image_count, error_code, started_at, safety_pending_at, completed_at, updated_at,"
      + " (spec->>'batch_size')::int AS batch_size FROM requests WHERE id = $1";

  private final RegionContext ctx;
  private final Pool pool;
  private final Counter published;
  private final Counter lost;

  public UsageEvents(RegionContext ctx, Pool pool) {
    this.ctx = ctx;
    this.pool = pool;
    this.published = Counter.builder("genmesh_usage_events_total").tag("region", ctx.region())
        .tag("outcome", "published").description("Usage events published on genmesh.usage").register(ctx.meters());
    this.lost = Counter.builder("genmesh_usage_events_total").tag("region", ctx.region())
        .tag("outcome", "not_published").description("Usage events published on genmesh.usage").register(ctx.meters());
  }

  /** Publishes usage for every terminal event this node commits from now on. */
  public void start() {
    ctx.hub().onCommitted(this::committed);
  }

  private void committed(ProgressEvent event) {
    if (event.type() != EventType.COMPLETED && event.type() != EventType.FAILED) {
      return;
    }
    usageOf(event).onSuccess(usage -> {
      ctx.vertx().eventBus().publish(Addresses.USAGE, usage);
      published.increment();
    }).onFailure(err -> {
      lost.increment();
      LOG.warn("[{}] usage event not published: {}", event.requestId(), err.toString());
    });
  }

  private Future<JsonObject> usageOf(ProgressEvent event) {
    return pool.preparedQuery(SQL).execute(Tuple.of(event.requestId())).map(rows -> {
      if (rows.size() == 0) {
        throw new IllegalStateException("no row in the request log");
      }
      return body(rows.iterator().next(), event);
    });
  }

  private JsonObject body(Row row, ProgressEvent event) {
    OffsetDateTime started = row.getOffsetDateTime("started_at");
    OffsetDateTime generated = firstOf(row.getOffsetDateTime("safety_pending_at"), row.getOffsetDateTime("completed_at"),
        row.getOffsetDateTime("updated_at"));
    // GPU time of the attempt that ended: its denoising run, not the safety check after it.
    double gpuSeconds = started == null || generated == null ? 0.0
        : Math.max(0, Duration.between(started, generated).toMillis()) / 1000.0;
    boolean completed = event.type() == EventType.COMPLETED;
    Integer images = row.getInteger("image_count");
    return new JsonObject()
        .put("request_id", row.getString("id"))
        .put("dedupe_key", row.getString("id"))
        .put("status", event.type().wireName())
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
        .put("time", event.time().toString());
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
