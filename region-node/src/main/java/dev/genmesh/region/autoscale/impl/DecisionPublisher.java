package dev.genmesh.region.autoscale.impl;

import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.scaling.ScalingDecision;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a decision known: an event on {@code genmesh.<region>.scaling.decisions} and a row in the
 * region's log. A failed write is logged once and counted ({@value #FAILURES}); the decision is
 * still carried out (the record is for operators, not for correctness).
 */
public final class DecisionPublisher {
  public static final String DECISIONS = "genmesh.autoscale.decisions";
  public static final String FAILURES = "genmesh.autoscale.decision.record.failures";
  private static final Logger LOG = LoggerFactory.getLogger(DecisionPublisher.class);

  private final Vertx vertx;
  private final String region;
  private final ScalingDecisionLog log;
  private final MeterRegistry meters;

  public DecisionPublisher(Vertx vertx, String region, ScalingDecisionLog log, MeterRegistry meters) {
    this.vertx = vertx;
    this.region = region;
    this.log = log;
    this.meters = meters;
  }

  public Future<Void> publish(ScalingDecision decision) {
    LOG.info("{} pool {}: {} -> {} workers ({}, {}{})", region, decision.pool(), decision.from(), decision.to(),
        decision.reason(), decision.driver(),
        decision.signal() == null ? "" : ", " + decision.signal() + "=" + decision.value());
    meters.counter(DECISIONS, "region", region, "pool", decision.pool(), "reason", decision.reason()).increment();
    vertx.eventBus().publish(Addresses.scalingDecisions(region), decision.toJson());
    return log.record(decision).recover(err -> {
      meters.counter(FAILURES, "region", region).increment();
      LOG.warn("{} pool {}: scaling decision of {} not recorded: {}", region, decision.pool(), decision.time(), err.toString());
      return Future.succeededFuture();
    });
  }
}
