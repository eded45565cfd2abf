package dev.genmesh.region.breaker;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages.Claim;
import dev.genmesh.region.breaker.impl.BreakerAlerts;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.queue.impl.FallbackMover;
import dev.genmesh.region.queue.impl.WorkerHandBack;
import dev.genmesh.region.requests.ProgressHub;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.scheduler.Routing;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A region node's circuit breakers at work (region-node/API.md, "Circuit breakers"): the
 * {@link Breakers} board, fed with attempt outcomes, plus what each change makes the node do.
 * <ul>
 *   <li>a model opens: its waiting {@code allow_fallback} requests move to its fallback (again
 *       every second while it stays open, for ones a claim held or Redis did not have);</li>
 *   <li>a worker opens: its assigned, not started requests go back to the queue, and a
 *       replacement is asked for;</li>
 *   <li>a model or worker turns half-open or closed: idle workers are told there is work;</li>
 *   <li>every change: logged, counted and published on {@code genmesh.alerts}.</li>
 * </ul>
 * Use from the node's event loop.
 */
public final class RegionBreakers implements AttemptOutcomes, BreakerListener {
  private static final Logger LOG = LoggerFactory.getLogger(RegionBreakers.class);
  public static final String SHED = "genmesh.breaker.shed";
  static final long TICK_MS = 1000;

  private final Vertx vertx;
  private final String region;
  private final Breakers board;
  private final BreakerAlerts alerts;
  private final FallbackMover fallbacks;
  private final WorkerHandBack handBack;
  private final MeterRegistry registry;
  private final Set<String> sweeping = new HashSet<>();
  private long timer = -1;

  /**
   * @param served whether a live worker holds a model now (a fallback goes only to a model someone runs)
   * @param gpuClassOf a worker's GPU class as it last reported it, or null (for replacement requests)
   */
  public RegionBreakers(Vertx vertx, GenmeshConfig config, String region, RequestLog log, TierQueue queue, ProgressHub hub,
      Routing routing, MeterRegistry registry, Clock clock, Predicate<String> served, Function<String, String> gpuClassOf) {
    this.vertx = vertx;
    this.region = region;
    this.registry = registry;
    this.board = new Breakers(config.breakers(), config.models().keySet(), clock);
    this.alerts = new BreakerAlerts(vertx, region, registry, config.models().keySet());
    this.fallbacks = new FallbackMover(vertx, region, log, queue, hub, routing, board, new FallbackRule(config.models()),
        served, registry, clock);
    this.handBack = new WorkerHandBack(vertx, region, log, queue, hub, routing, gpuClassOf, clock);
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
  public void failed(String requestId, String model, String workerId, String failureType) {
    board.failed(requestId, model, workerId, failureType);
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
    registry.counter(SHED, "region", region, "tier", tier.wireName()).increment();
    return shed;
  }

  /** A new, committed request: moved to its model's fallback if that applies now. Never fails. */
  public Future<RequestLog.Submitted> reroute(RequestLog.Submitted submitted) {
    return fallbacks.atSubmit(submitted);
  }

  // ---- what changes make the node do -------------------------------------------------------

  @Override
  public void changed(BreakerTransition t) {
    if (t.kind() == BreakerKind.MODEL && t.to() == BreakerState.OPEN) {
      sweep(t.name());
    } else if (t.kind() == BreakerKind.WORKER && t.to() == BreakerState.OPEN) {
      String why = "worker " + t.name() + " circuit open: " + t.reason();
      handBack.requestReplacement(t.name(), WorkerHandBack.REASON);
      handBack.handBack(t.name(), why).onFailure(err ->
          LOG.warn("region {}: requests of worker {} not handed back ({}); their leases will lapse", region, t.name(),
              err.toString()));
    } else if (t.kind() != BreakerKind.GLOBAL) {
      vertx.eventBus().publish(Addresses.workAvailable(region), "breaker");
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
    fallbacks.sweep(model)
        .onFailure(err -> LOG.warn("region {}: fallback sweep of {} failed ({}); the next tick tries again", region, model,
            err.toString()))
        .onComplete(ar -> sweeping.remove(model));
  }
}
