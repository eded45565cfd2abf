package dev.genmesh.breakers;

import dev.genmesh.breakers.impl.BreakerAlerts;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages.Claim;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A region node's circuit breakers at work (region-node/API.md, "Circuit breakers"): the
 * {@link Breakers} board, fed with attempt outcomes, and what each change makes the node do
 * through its {@link BreakerActions}: a model opens, its waiting {@code allow_fallback} requests
 * move to its fallback (again every second while it stays open); a worker opens, its assigned,
 * not started requests go back to the queue and a replacement is asked for; a model or worker
 * turns half-open or closed, idle workers are told there is work. Use from the node's event loop.
 */
public final class RegionBreakers implements AttemptOutcomes, BreakerListener {
  private static final Logger LOG = LoggerFactory.getLogger(RegionBreakers.class);
  public static final String SHED = "genmesh.breaker.shed";
  /** Why a worker's requests are handed back and a replacement is asked for. */
  public static final String WORKER_OPEN = "worker_breaker_open";
  static final long TICK_MS = 1000;

  private final Vertx vertx;
  private final String region;
  private final Breakers board;
  private final BreakerAlerts alerts;
  private final FallbackRule rule;
  private final Predicate<String> served;
  private final BreakerActions actions;
  private final MeterRegistry meters;
  private final Set<String> sweeping = new HashSet<>();
  private long timer = -1;

  /**
   * @param served whether a live worker holds a model now (a fallback goes only to a model someone runs)
   * @param actions what the request log and the queue do when a breaker changes
   */
  public RegionBreakers(Vertx vertx, GenmeshConfig config, String region, MeterRegistry meters, Clock clock,
      Predicate<String> served, BreakerActions actions) {
    this.vertx = vertx;
    this.region = region;
    this.meters = meters;
    this.served = served;
    this.actions = actions;
    this.board = new Breakers(config.breakers(), config.models().keySet(), clock);
    this.alerts = new BreakerAlerts(vertx, region, meters, config.models().keySet());
    this.rule = new FallbackRule(config.models());
    board.addListener(alerts);
    board.addListener(this);
  }
  public Breakers board() {
    return board;
  }

  /** Starts the tick that lets time-driven changes happen and keeps sweeping open models. */
  public void start() {
    timer = vertx.setPeriodic(TICK_MS, id -> tick());
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    alerts.close();
  }

  // ---- what the node asks ----------------------------------------------------------------

  @Override
  public void succeeded(String requestId, String model, String workerId) {
    board.succeeded(requestId, model, workerId);
  }

  @Override
  public void failed(String requestId, String model, String workerId, String failureType, boolean retried) {
    board.failed(requestId, model, workerId, failureType, retried);
  }

  /** See {@link Breakers#admit}. */
  public Optional<ClaimAdmission> admit(Claim claim) {
    return board.admit(claim);
  }

  /** Present when submits of this tier are shed now (count a refusal with {@link #refused}). */
  public Optional<Overloaded> shed(Tier tier) {
    return board.shed(tier);
  }

  /** Counts a submit refused because its tier is shed ({@code genmesh.breaker.shed}). */
  public Overloaded refused(Overloaded shed, Tier tier) {
    meters.counter(SHED, "region", region, "tier", tier.wireName()).increment();
    return shed;
  }

  /**
   * Where this request runs instead, now: only if it allows a fallback, its model's breaker is
   * open, the fallback can run it, the fallback's own breaker is closed and a live worker holds it.
   */
  public Optional<String> fallbackFor(GenerationSpec spec) {
    if (!spec.allowFallback() || board.modelState(spec.model()) != BreakerState.OPEN) {
      return Optional.empty();
    }
    return rule.target(spec).filter(to -> board.modelState(to) == BreakerState.CLOSED && served.test(to));
  }

  // ---- what changes make the node do -------------------------------------------------------

  @Override
  public void changed(BreakerTransition t) {
    if (t.kind() == BreakerKind.MODEL && t.to() == BreakerState.OPEN) {
      sweep(t.name());
    } else if (t.kind() == BreakerKind.WORKER && t.to() == BreakerState.OPEN) {
      String why = "worker " + t.name() + " circuit open: " + t.reason();
      actions.requestReplacement(t.name(), WORKER_OPEN);
      actions.handBack(t.name(), why).onFailure(err ->
          LOG.warn("region {}: requests of worker {} not handed back ({}); their leases will lapse", region, t.name(),
              err.toString()));
    } else if (t.kind() != BreakerKind.GLOBAL) {
      actions.claimable("breaker");
    }
  }

  private void tick() {
    board.tick();
    board.openModels().forEach(this::sweep);
  }

  private void sweep(String model) {
    if (!sweeping.add(model)) {
      return;
    }
    Future<Integer> moved = board.modelState(model) == BreakerState.OPEN
        ? actions.moveToFallback(model, this::fallbackFor)
        : Future.succeededFuture(0);
    moved
        .onFailure(err -> LOG.warn("region {}: fallback sweep of {} failed ({}); the next tick tries again", region, model,
            err.toString()))
        .onComplete(ar -> sweeping.remove(model));
  }
}
