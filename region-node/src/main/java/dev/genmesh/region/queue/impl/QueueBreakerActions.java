package dev.genmesh.region.queue.impl;

import dev.genmesh.breakers.BreakerActions;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.region.scheduler.IdleWorkers;
import io.vertx.core.Future;
import java.util.Optional;
import java.util.function.Function;

/** The breakers' actions, carried out on the request log and the queue. */
public final class QueueBreakerActions implements BreakerActions {
  private final FallbackMover fallbacks;
  private final WorkerHandBack handBacks;
  private final IdleWorkers idle;

  public QueueBreakerActions(FallbackMover fallbacks, WorkerHandBack handBacks, IdleWorkers idle) {
    this.fallbacks = fallbacks;
    this.handBacks = handBacks;
    this.idle = idle;
  }

  @Override
  public void claimable(String reason) {
    idle.available(reason, Long.MAX_VALUE);
  }

  @Override
  public Future<Integer> moveToFallback(String model, Function<GenerationSpec, Optional<String>> target) {
    return fallbacks.sweep(model, target);
  }

  @Override
  public Future<Integer> handBack(String workerId, String why) {
    return handBacks.handBack(workerId, why);
  }

  @Override
  public void requestReplacement(String workerId, String reason) {
    handBacks.requestReplacement(workerId, reason);
  }
}
