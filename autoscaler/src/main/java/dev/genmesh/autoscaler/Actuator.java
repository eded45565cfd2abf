package dev.genmesh.autoscaler;

import dev.genmesh.protocol.scaling.ScalingDecision;
import io.vertx.core.Future;

/**
 * Carries out the policy's decisions on real workers: processes for {@code genmesh up}, one
 * Deployment per GPU pool on Kubernetes, the simulator's model of a region.
 *
 * <p>Contract:
 * <ul>
 *   <li>{@link #scaleTo} is declarative and idempotent: the pool should hold {@code count} live
 *       workers (starting or ready); draining and lost workers do not count, so a lost worker is
 *       replaced by asking for the same count again.</li>
 *   <li>Scale up = warm up: a new worker loads the families of {@link ScalePlan#warmModels} first and
 *       takes work only once it reports ready.</li>
 *   <li>Scale down = drain, then terminate: prefer workers still starting, then idle ones holding
 *       the families of {@link ScalePlan#drainModels}, then the rest. A draining worker takes no new
 *       work and finishes what it runs; past its drain deadline it hands the rest back to the queue
 *       (retry with priority boost, docs/architecture.md, I4), so no request is lost or restarted needlessly.</li>
 *   <li>The returned future succeeds once the change is under way (not when workers are ready).</li>
 * </ul>
 */
public interface Actuator {

  Future<Void> scaleTo(String pool, int count, ScalePlan plan);

  /** Drains one named worker (as above), e.g. a worker judged unhealthy, and then terminates it. */
  Future<Void> drain(String pool, String workerId);

  /** Carries out one decision. */
  default Future<Void> apply(ScalingDecision decision) {
    return scaleTo(decision.pool(), decision.to(), new ScalePlan(decision.warmModels(), decision.drainModels()));
  }
}
