package dev.genmesh.region.failover;

import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.failover.RegionDecision;
import dev.genmesh.region.failover.impl.Adoption;
import dev.genmesh.region.failover.impl.FailBack;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.queue.QueueEntry;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.region.scheduler.EtaEstimator;
import dev.genmesh.region.scheduler.Routing;
import dev.genmesh.replication.LogReplication;
import dev.genmesh.replication.RegionSchemas;
import dev.genmesh.replication.ReplicationStatus;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This region's part in a failover (docs/architecture.md, "Replication and adoption"). As the
 * adopter: a DOWN decision naming this region as the adopter of its ward (on
 * {@link RegionDecision#ADDRESS}, or posted by an operator: {@link FailoverRoutes}) pauses the
 * ward's replication and adopts its open requests from the replica; an UP decision about the ward
 * resumes it. As a returning origin: {@link #reconcile} before anything is dispatched, and the ids
 * the peer adopted are answered by the peer.
 */
public final class RegionFailover {
  private static final Logger LOG = LoggerFactory.getLogger(RegionFailover.class);
  private static final long REDIS_TIMEOUT_MS = 1000;

  /** What one decision did here. */
  public record Outcome(String action, int adopted, long durationMs) {
    public JsonObject toJson() {
      return new JsonObject().put("action", action).put("adopted", adopted).put("duration_ms", durationMs);
    }
  }

  private final RegionContext ctx;
  private final LogReplication replication;
  private final Routing routing;
  private final Adoption adoption;
  private final FailBack failBack;
  private final WardReads wardReads;
  private final Map<String, String> adoptedHere = new ConcurrentHashMap<>();
  private MessageConsumer<JsonObject> consumer;

  /** @param modelServed whether a live worker of this region serves a model */
  public RegionFailover(RegionContext ctx, Pool pool, LogReplication replication, Routing routing, EtaEstimator eta,
      Predicate<String> modelServed) {
    this.ctx = ctx;
    this.replication = replication;
    this.routing = routing;
    this.adoption = new Adoption(pool, ctx.region(), eta, modelServed);
    this.wardReads = new WardReads(pool, ctx.config(), replication);
    this.failBack = new FailBack(ctx.vertx(), ctx.config(), ctx.region(), pool, ctx.meters(), ctx.clock(), ctx.hub()::publish);
  }

  /** Fail-back, at start before the queues are rebuilt: what the peer adopted is final here. */
  public Future<Void> reconcile() {
    boolean published = replication.status().mode() != ReplicationStatus.Mode.OFF;
    return failBack.reconcile(published).onSuccess(adopted -> {
      adoptedHere.clear();
      adoptedHere.putAll(adopted);
    }).mapEmpty();
  }

  /** Listens for the quorum's decisions. */
  public Future<Void> listen() {
    consumer = ctx.vertx().eventBus().consumer(RegionDecision.ADDRESS, message -> {
      RegionDecision decision;
      try {
        decision = RegionDecision.fromJson(message.body());
      } catch (RuntimeException e) {
        LOG.warn("region {}: ignored a malformed failover decision: {}", ctx.region(), e.getMessage());
        return;
      }
      decide(decision).onFailure(err -> LOG.error("region {}: failover decision about {} failed: {}", ctx.region(),
          decision.region(), err.getMessage()));
    });
    return consumer.completion();
  }

  /** The adopter that answers for an id this region's log marks ADOPTED, if it is one. */
  public Optional<String> adopterOf(String id) {
    return Optional.ofNullable(adoptedHere.get(id));
  }

  /** {@code ids} are ADOPTED in this log now, by {@code adopter} (held results settled after a fence): answered with a 307. */
  public void adopted(java.util.Collection<String> ids, String adopter) {
    ids.forEach(id -> adoptedHere.put(id, adopter));
  }

  /** The ward's ended requests, read-only from its replica (the regional API's answers for ids not in this log). */
  public dev.genmesh.region.requests.ReplicaReads replicaReads() {
    return wardReads;
  }

  /** The region whose replica this region holds (and adopts), if any. */
  public Optional<String> ward() {
    return replication.ward();
  }

  /**
   * Acts on a decision: adopt (DOWN, this region the adopter of its ward), resume (UP of the
   * ward), or nothing. Idempotent: a repeated DOWN adopts nothing twice.
   */
  public Future<Outcome> decide(RegionDecision decision) {
    Optional<String> ward = replication.ward();
    boolean aboutWard = ward.isPresent() && ward.get().equals(decision.region());
    if (decision.state() == RegionDecision.State.UP) {
      return aboutWard ? replication.resumeWard().map(v -> new Outcome("resumed", 0, 0))
          : Future.succeededFuture(new Outcome("none", 0, 0));
    }
    if (!ctx.region().equals(decision.adopter())) {
      return Future.succeededFuture(new Outcome("none", 0, 0));
    }
    if (!aboutWard) {
      LOG.warn("region {}: named adopter of {}, but it holds the replica of {} only", ctx.region(), decision.region(),
          ward.orElse("no region"));
      return Future.succeededFuture(new Outcome("none", 0, 0));
    }
    return adopt(decision);
  }

  private Future<Outcome> adopt(RegionDecision decision) {
    String from = decision.region();
    Instant decidedAt = decision.decidedAt();
    return replication.pauseWard()
        .recover(err -> {
          LOG.warn("region {}: cannot pause replication from {} ({}); adopting anyway", ctx.region(), from, err.getMessage());
          return Future.succeededFuture();
        })
        .compose(v -> ctx.queue().depths().timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
            .otherwise(err -> new EnumMap<>(Tier.class)))
        .compose(depths -> adoption.adopt(from, RegionSchemas.schemaOf(from), decision.reason(), decidedAt, depths))
        .compose(adopted -> enqueue(adopted.rows()).map(v -> {
          adopted.events().forEach(ctx.hub()::publish);
          long ms = Math.max(0, ctx.clock().millis() - decidedAt.toEpochMilli());
          if (!adopted.rows().isEmpty()) {
            announce(from, adopted.rows(), ms);
          }
          return new Outcome("adopted", adopted.rows().size(), ms);
        }));
  }

  private Future<Void> enqueue(List<RequestRow> rows) {
    if (rows.isEmpty()) {
      return Future.succeededFuture();
    }
    List<QueueEntry> entries = rows.stream().map(row -> routing.entry(row, false)).toList();
    return ctx.queue().enqueue(entries, ctx.clock().millis())
        .<Void>map(added -> {
          entries.forEach(ctx.idle()::queued);
          return null;
        })
        .recover(err -> {
          LOG.warn("region {}: {} adopted requests are in the log but not queued in Redis ({}); the queue rebuild"
              + " queues them", ctx.region(), rows.size(), err.toString());
          return Future.succeededFuture();
        });
  }

  /** Logs, counts, and tells operators and the autoscaler the extra demand (an alert with the counts per tier). */
  private void announce(String from, List<RequestRow> rows, long ms) {
    Map<String, Long> byTier = rows.stream().collect(Collectors.groupingBy(r -> r.tier().wireName(), Collectors.counting()));
    LOG.info("region {}: adopted {} requests of {} ({}), all queued {} ms after the decision", ctx.region(), rows.size(),
        from, byTier, ms);
    ctx.meters().counter("genmesh.failover.adopted", "region", ctx.region(), "from", from).increment(rows.size());
    Timer.builder("genmesh.failover.adoption.duration").tag("region", ctx.region()).tag("from", from)
        .description("from the down decision until every adopted request was queued here")
        .register(ctx.meters()).record(Duration.ofMillis(ms));
    ctx.vertx().eventBus().publish(Addresses.ALERTS, new JsonObject().put("type", "region_adopted")
        .put("region", ctx.region()).put("from", from).put("adopted", rows.size()).put("by_tier", new JsonObject(
            byTier.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> (Object) e.getValue()))))
        .put("duration_ms", ms));
  }

  public Future<Void> stop() {
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
