package dev.genmesh.region.autoscale.impl;

import dev.genmesh.autoscaler.Actuator;
import dev.genmesh.autoscaler.ScalePlan;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The actuator of a region node nobody gave a real one: it only logs. Decisions are still
 * published and recorded, so an operator (or an external controller listening on
 * {@code genmesh.<region>.scaling.decisions}) can act on them.
 */
public final class LoggingActuator implements Actuator {
  private static final Logger LOG = LoggerFactory.getLogger(LoggingActuator.class);

  @Override
  public Future<Void> scaleTo(String pool, int count, ScalePlan plan) {
    LOG.info("pool {} should hold {} workers (no actuator: advice only)", pool, count);
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> drain(String pool, String workerId) {
    LOG.info("pool {}: worker {} should be drained (no actuator: advice only)", pool, workerId);
    return Future.succeededFuture();
  }
}
