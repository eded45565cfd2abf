package dev.genmesh.region.api.impl;

import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.replication.ReplicationStatus;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The region node's Kubernetes probes (region-node/API.md, "Health and metrics"), as
 * vertx-health-check procedures. Live: {@code event_loop} (the node's event loop runs the
 * check). Ready: {@code postgres} ({@code SELECT 1}), {@code redis} ({@code PING}), each within
 * 2 s, {@code queues} (the start-up rebuild from the request log is done) and {@code replication}
 * (mode, peer, lag: down only while submits are refused for want of the peer; a degraded or
 * absent peer is reported, and the region stays ready), and, with
 * {@code failover.enabled}, {@code fencing} (down while the region is fenced: it lost its failover
 * quorum and dispatches nothing, so the edge sends it no submits).
 */
public final class RegionProbes {
  static final long STORE_CHECK_TIMEOUT_MS = 2000;
  /** How often the stores are pinged for {@code genmesh.store.up}, whether or not anyone probes. */
  static final long STORE_PING_INTERVAL_MS = 5000;

  private final Vertx vertx;
  private final String region;
  private final RequestLog log;
  private final TierQueue queue;
  private final BooleanSupplier startupRebuildDone;
  private final BooleanSupplier rebuilding;
  private final BooleanSupplier fenced;
  private final boolean failoverEnabled;
  private final Supplier<ReplicationStatus> replication;
  private final java.util.concurrent.atomic.AtomicInteger postgresUp;
  private final java.util.concurrent.atomic.AtomicInteger redisUp;
  private boolean pinging;

  /**
   * @param rebuilding a run-time rebuild (keys lost, Redis back) is running: reported, but the
   *     node stays ready, since it keeps accepting into the log and the rebuild queues what it took
   */
  public RegionProbes(RegionContext ctx, BooleanSupplier startupRebuildDone, BooleanSupplier rebuilding,
      BooleanSupplier fenced, Supplier<ReplicationStatus> replication) {
    this.fenced = fenced;
    this.failoverEnabled = ctx.config().failover().enabled();
    this.replication = replication;
    this.vertx = ctx.vertx();
    this.region = ctx.region();
    this.log = ctx.log();
    this.queue = ctx.queue();
    this.startupRebuildDone = startupRebuildDone;
    this.rebuilding = rebuilding;
    this.postgresUp = ctx.metrics().storeUp("postgres");
    this.redisUp = ctx.metrics().storeUp("redis");
  }

  public void mount(Router router) {
    HealthChecks live = HealthChecks.create(vertx)
        .register("event_loop", promise -> promise.complete(Status.OK(new JsonObject().put("region", region))));
    HealthChecks ready = HealthChecks.create(vertx)
        .register("postgres", STORE_CHECK_TIMEOUT_MS, promise -> reachable(log.ping(), promise))
        .register("redis", STORE_CHECK_TIMEOUT_MS, promise -> reachable(queue.ping(), promise))
        .register("queues", promise -> {
          JsonObject data = new JsonObject().put("rebuilding", rebuilding.getAsBoolean());
          promise.complete(startupRebuildDone.getAsBoolean() ? Status.OK(data)
              : Status.KO(data.put("error", "the queues are not rebuilt from the request log yet")));
        })
        .register("replication", promise -> {
          ReplicationStatus now = replication.get();
          promise.complete(now.refusing() ? Status.KO(now.toJson()) : Status.OK(now.toJson()));
        });
    if (failoverEnabled) {
      ready.register("fencing", promise -> promise.complete(fenced.getAsBoolean()
          ? Status.KO(new JsonObject().put("fenced", true).put("error", "fenced: fewer than a majority of the failover"
              + " observers hold this region ok; it dispatches nothing until they do"))
          : Status.OK(new JsonObject().put("fenced", false))));
    }
    // A timer of the node's verticle: cancelled when it is undeployed.
    vertx.setPeriodic(STORE_PING_INTERVAL_MS, tick -> pingStores());
    router.get("/health/live").handler(HealthCheckHandler.createWithHealthChecks(live));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(ready));
  }

  /** Sets the store gauges from one ping of each (alerts read them: k8s/monitoring). */
  private void pingStores() {
    if (pinging) {
      return;
    }
    pinging = true;
    Future<?> postgres = log.ping().timeout(STORE_CHECK_TIMEOUT_MS, java.util.concurrent.TimeUnit.MILLISECONDS)
        .onComplete(ar -> postgresUp.set(ar.succeeded() ? 1 : 0));
    Future<?> redis = queue.ping().timeout(STORE_CHECK_TIMEOUT_MS, java.util.concurrent.TimeUnit.MILLISECONDS)
        .onComplete(ar -> redisUp.set(ar.succeeded() ? 1 : 0));
    Future.join(postgres, redis).onComplete(done -> pinging = false);
  }

  /**
   * A store's readiness from its ping. The health check may have given up on the ping already
   * (its timeout answered KO, as when a store is slow at start-up): a late answer is dropped, not
   * thrown ("Result is already complete", unhandled on the event loop).
   */
  static void reachable(Future<?> ping, Promise<Status> promise) {
    ping.onComplete(ar -> promise.tryComplete(ar.succeeded() ? Status.OK()
        : Status.KO(new JsonObject().put("error", String.valueOf(ar.cause().getMessage())))));
  }
}
