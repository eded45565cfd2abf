package dev.genmesh.breakers;

import dev.genmesh.protocol.Tier;
import java.time.Instant;
import java.util.Set;

/** Told of every breaker state change of a {@link Breakers} board, outside its lock. */
public interface BreakerListener {

  void changed(BreakerTransition transition);

  /**
   * The tiers the global breaker sheds changed (empty, relax, or relax and fast) at the given
   * window failure rate.
   */
  default void shedding(Set<Tier> tiers, double failureRate, Instant at) {}
}
