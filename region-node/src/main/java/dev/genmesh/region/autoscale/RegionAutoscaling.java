package dev.genmesh.region.autoscale;

import dev.genmesh.autoscaler.Actuator;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.region.autoscale.impl.Autoscaler;
import dev.genmesh.region.autoscale.impl.AutoscalerLeadership;
import dev.genmesh.region.autoscale.impl.DecisionPublisher;
import dev.genmesh.region.autoscale.impl.RegionObservations;
import dev.genmesh.region.autoscale.impl.ScalingDecisionLog;
import dev.genmesh.region.autoscale.impl.WarmupAdvisor;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.workers.KnownWorker;
import io.vertx.core.Future;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.sqlclient.Pool;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The region node's side of autoscaling (docs/autoscaling.md, "In the region node"): every node
 * answers warm-up asks; when {@code autoscaling.enabled}, the node that leads the region runs the
 * autoscaler.
 */
public final class RegionAutoscaling {
  /** A warm-up plan's counts wait at least this long for the planned workers to ask. */
  private static final long WARMUP_PLAN_MIN_TTL_MS = 60_000;

  private final RegionContext ctx;
  private final Pool pool;
  private final Supplier<Collection<KnownWorker>> workers;
  private final WarmupAdvisor warmup;
  private Autoscaler autoscaler;
  private AutoscalerLeadership leadership;

  /** @param workers the workers the node knows now */
  public RegionAutoscaling(RegionContext ctx, Pool pool, Supplier<Collection<KnownWorker>> workers) {
    this.ctx = ctx;
    this.pool = pool;
    this.workers = workers;
    this.warmup = new WarmupAdvisor(ctx.vertx(), ctx.region(), pool, ctx.config()::modelFamily,
        ctx.config().autoscaling().evaluationIntervalMs(),
        Math.max(ctx.config().autoscaling().coldStartMs(), WARMUP_PLAN_MIN_TTL_MS), ctx.clock(), ctx.meters());
  }

  /** The warm-up consumers (docs/autoscaling.md, "Warm-up order"), on every node, leading or not. */
  public List<MessageConsumer<?>> warmupConsumers() {
    return List.of(ctx.vertx().eventBus().consumer(Addresses.warmup(ctx.region()), warmup::handle), warmup.listen());
  }

  /** Starts the autoscaler when enabled; {@code actuator} carries out its decisions. */
  public Future<Void> start(Actuator actuator) {
    if (!ctx.config().autoscaling().enabled()) {
      return Future.succeededFuture();
    }
    leadership = new AutoscalerLeadership(pool, ctx.region());
    RegionObservations observations = new RegionObservations(pool, ctx.queue()::depths, workers, ctx.config()::modelFamily,
        ctx.clock());
    DecisionPublisher publisher = new DecisionPublisher(ctx.vertx(), ctx.region(), new ScalingDecisionLog(pool),
        ctx.meters());
    autoscaler = new Autoscaler(ctx.vertx(), ctx.config(), ctx.region(), ctx.clock(), leadership::lead,
        observations::observe, publisher, actuator, ctx.meters(), warmup::plan);
    return autoscaler.start();
  }

  /** The autoscaler's current targets per pool (empty when disabled or not leading). */
  public Map<String, Integer> targets() {
    Autoscaler running = autoscaler;
    return running == null ? Map.of() : running.targets();
  }

  /** Stops the autoscaler and gives up the lead; never fails. */
  public Future<Void> stop() {
    Future<Void> chain = Future.succeededFuture();
    if (autoscaler != null) {
      Autoscaler stopping = autoscaler;
      autoscaler = null;
      chain = chain.transform(v -> stopping.stop());
    }
    if (leadership != null) {
      AutoscalerLeadership releasing = leadership;
      leadership = null;
      chain = chain.transform(v -> releasing.release());
    }
    return chain.transform(v -> Future.succeededFuture());
  }
}
