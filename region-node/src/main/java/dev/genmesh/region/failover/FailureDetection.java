package dev.genmesh.region.failover;

import dev.genmesh.failover.FailoverParticipant;
import dev.genmesh.region.node.RegionContext;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The region node's part in region failure detection (docs/architecture.md, "Region failure
 * detection"): a {@link FailoverParticipant} named after the region (it observes the other
 * regions, serves {@code /failover/opinions} and {@code /failover/decisions}, holds the fencing
 * lease) and {@code /failover/status}, what the other participants judge this region by: its
 * stores' readiness, its queued work and a progress token that every dispatch changes.
 */
public final class FailureDetection {
  static final long STORE_CHECK_TIMEOUT_MS = 2000;

  private final RegionContext ctx;
  private final FailoverParticipant participant;
  private final BooleanSupplier queuesRebuilt;

  /** @param queuesRebuilt the start-up rebuild of the queues is done */
  public FailureDetection(RegionContext ctx, BooleanSupplier queuesRebuilt) {
    this.ctx = ctx;
    this.queuesRebuilt = queuesRebuilt;
    this.participant = new FailoverParticipant(ctx.vertx(), ctx.config(), ctx.region(), ctx.clock(), ctx.meters());
  }

  /** True while this region may not dispatch; false with failover off. */
  public boolean fenced() {
    return participant.fenced();
  }

  public FailoverParticipant participant() {
    return participant;
  }

  public void mount(Router router) {
    participant.mount(router);
    router.get("/failover/status").handler(this::status);
  }

  public void start() {
    participant.start();
  }

  public void stop() {
    participant.stop();
  }

  private void status(RoutingContext rc) {
    Future<Void> log = bounded(ctx.log().ping());
    Future<Void> redis = bounded(ctx.queue().ping());
    Future<Map<dev.genmesh.protocol.Tier, Long>> depths = bounded(ctx.queue().depths());
    Future<String> progress = bounded(ctx.queue().lastDispatch());
    Future.join(log, redis, depths, progress).onComplete(done -> {
      String problem = log.failed() ? "postgres: " + log.cause().getMessage()
          : redis.failed() ? "redis: " + redis.cause().getMessage()
          : !queuesRebuilt.getAsBoolean() ? "queues not rebuilt from the log yet" : "";
      JsonObject body = new JsonObject().put("region", ctx.region()).put("at", Instant.now(ctx.clock()).toString())
          .put("ready", problem.isEmpty()).put("fenced", participant.fenced())
          .put("queued", depths.succeeded() ? depths.result().values().stream().mapToLong(Long::longValue).sum() : 0L)
          .put("progress", progress.succeeded() ? progress.result() : "");
      if (!problem.isEmpty()) {
        body.put("problem", problem);
      }
      rc.response().putHeader("Content-Type", "application/json").putHeader("Cache-Control", "no-store")
          .end(body.encode());
    });
  }

  private static <T> Future<T> bounded(Future<T> call) {
    return call.timeout(STORE_CHECK_TIMEOUT_MS, TimeUnit.MILLISECONDS);
  }
}
