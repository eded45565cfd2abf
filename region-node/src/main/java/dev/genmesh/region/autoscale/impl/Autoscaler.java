package dev.genmesh.region.autoscale.impl;

import dev.genmesh.autoscaler.Actuator;
import dev.genmesh.autoscaler.ScalingObservation;
import dev.genmesh.autoscaler.ScalingPolicy;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.scaling.ScalingDecision;
import dev.genmesh.region.autoscale.ReplacementInbox;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The region's autoscaler loop: every {@code autoscaling.evaluation_interval_ms}, if this node
 * leads the region ({@link AutoscalerLeadership}), observe the region, run the policy, publish and
 * record each decision, and hand it to the actuator. A node that takes the lead starts a fresh
 * policy (windows and cooldowns start over: a short pause in scaling, never a double one).
 * Runs on the event loop of the verticle that starts it.
 */
public final class Autoscaler {
  public static final String EVALUATIONS = "genmesh.autoscale.evaluations";
  private static final Logger LOG = LoggerFactory.getLogger(Autoscaler.class);

  private final Vertx vertx;
  private final GenmeshConfig config;
  private final String region;
  private final Clock clock;
  private final Supplier<Future<Boolean>> leadership;
  private final Function<List<dev.genmesh.autoscaler.Replacement>, Future<ScalingObservation>> observations;
  private final DecisionPublisher publisher;
  private final Actuator actuator;
  private final MeterRegistry meters;
  private final ReplacementInbox inbox;
  private final java.util.function.Consumer<ScalingDecision> plans;
  private ScalingPolicy policy;
  private long timer = -1;
  private boolean inFlight;

  public Autoscaler(Vertx vertx, GenmeshConfig config, String region, Clock clock, Supplier<Future<Boolean>> leadership,
      Function<List<dev.genmesh.autoscaler.Replacement>, Future<ScalingObservation>> observations,
      DecisionPublisher publisher, Actuator actuator, MeterRegistry meters) {
    this(vertx, config, region, clock, leadership, observations, publisher, actuator, meters, decision -> { });
  }

  /**
   * @param plans is told each decision before the actuator carries it out (the
   *     {@link WarmupAdvisor}: new workers ask it which models to load first)
   */
  public Autoscaler(Vertx vertx, GenmeshConfig config, String region, Clock clock, Supplier<Future<Boolean>> leadership,
      Function<List<dev.genmesh.autoscaler.Replacement>, Future<ScalingObservation>> observations,
      DecisionPublisher publisher, Actuator actuator, MeterRegistry meters,
      java.util.function.Consumer<ScalingDecision> plans) {
    this.plans = plans;
    this.vertx = vertx;
    this.config = config;
    this.region = region;
    this.clock = clock;
    this.leadership = leadership;
    this.observations = observations;
    this.publisher = publisher;
    this.actuator = actuator;
    this.meters = meters;
    this.inbox = new ReplacementInbox(region);
  }

  public Future<Void> start() {
    return inbox.listen(vertx).onSuccess(v -> {
      timer = vertx.setPeriodic(config.autoscaling().evaluationIntervalMs(), id -> evaluate());
      LOG.info("{}: autoscaler started (every {} ms)", region, config.autoscaling().evaluationIntervalMs());
    });
  }

  public Future<Void> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    return inbox.close();
  }

  /** The policy's current targets (empty while this node does not lead). */
  public java.util.Map<String, Integer> targets() {
    return policy == null ? java.util.Map.of() : policy.targets();
  }

  /** One evaluation (the timer calls it; tests may too). Never fails; skipped while one runs. */
  public Future<List<ScalingDecision>> evaluate() {
    if (inFlight) {
      return Future.succeededFuture(List.of());
    }
    inFlight = true;
    return leadership.get()
        .compose(leads -> {
          if (!leads) {
            policy = null;
            inbox.drain(); // the leader has them too
            return Future.succeededFuture(List.<ScalingDecision>of());
          }
          if (policy == null) {
            policy = ScalingPolicy.design(config, region, clock);
          }
          return observations.apply(inbox.drain()).compose(this::decideAndAct);
        })
        .recover(err -> {
          meters.counter(EVALUATIONS, "region", region, "outcome", "failed").increment();
          LOG.warn("{}: autoscaler evaluation failed: {}", region, err.toString());
          return Future.succeededFuture(List.of());
        })
        .onComplete(ar -> inFlight = false);
  }

  private Future<List<ScalingDecision>> decideAndAct(ScalingObservation observation) {
    List<ScalingDecision> decisions = policy.evaluate(observation);
    meters.counter(EVALUATIONS, "region", region, "outcome", "ok").increment();
    Future<Void> chain = Future.succeededFuture();
    for (ScalingDecision decision : decisions) {
      chain = chain.compose(v -> publisher.publish(decision))
          .compose(v -> {
            plans.accept(decision); // before the actuator: its new workers ask at once
            return actuator.apply(decision).recover(err -> {
              meters.counter(EVALUATIONS, "region", region, "outcome", "actuator_failed").increment();
              LOG.warn("{} pool {}: actuator could not scale to {}: {}", region, decision.pool(), decision.to(), err.toString());
              return Future.succeededFuture();
            });
          });
    }
    return chain.map(v -> decisions);
  }
}
