package dev.genmesh.breakers;

import dev.genmesh.protocol.GenerationSpec;
import io.vertx.core.Future;
import java.util.Optional;
import java.util.function.Function;

/**
 * What a breaker change makes the region do to its requests. {@link RegionBreakers} decides;
 * the request log and queue side carries it out, so the breakers depend on neither.
 */
public interface BreakerActions {

  /**
   * Moves the waiting requests of {@code model} that {@code target} sends to another model (its
   * fallback, now); answers how many moved.
   */
  Future<Integer> moveToFallback(String model, Function<GenerationSpec, Optional<String>> target);

  /** Puts the requests assigned to this worker that it has not started back in the queue; answers how many. */
  Future<Integer> handBack(String workerId, String why);

  /** Asks the autoscaler for a replacement of this worker. */
  void requestReplacement(String workerId, String reason);

  /** Work a breaker held back may be claimed again ({@code reason}): idle workers look again. */
  void claimable(String reason);
}
