package dev.genmesh.failover.impl;

import dev.genmesh.protocol.failover.RegionDecision;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The failover meters of one participant: decisions by region and state, detection time, each
 * region's current state (1 up, 0 down), whether this region node is fenced, and failed polls.
 */
public final class FailoverMetrics {
  public static final String DECISIONS = "genmesh.failover.decisions";
  public static final String DETECTION = "genmesh.failover.detection";
  public static final String REGION_UP = "genmesh.failover.region.up";
  public static final String FENCED = "genmesh.failover.fenced";
  public static final String POLL_FAILURES = "genmesh.failover.poll.failures";
  public static final String RETURN_RECONCILES = "genmesh.failover.return.reconciles";

  private final MeterRegistry registry;
  private final String participant;
  private final Map<String, AtomicInteger> up = new ConcurrentHashMap<>();
  private final AtomicInteger fenced = new AtomicInteger();

  public FailoverMetrics(MeterRegistry registry, String participant, Iterable<String> regions, boolean region) {
    this.registry = registry;
    this.participant = participant;
    for (String name : regions) {
      AtomicInteger state = new AtomicInteger(1);
      up.put(name, state);
      Gauge.builder(REGION_UP, state, AtomicInteger::get).tag("participant", participant).tag("region", name)
          .description("The quorum's current decision about the region: 1 up, 0 down").register(registry);
    }
    if (region) {
      Gauge.builder(FENCED, fenced, AtomicInteger::get).tag("region", participant)
          .description("1 while this region node is fenced (may not dispatch)").register(registry);
    }
  }

  public void decided(RegionDecision decision) {
    String state = decision.state().name().toLowerCase(java.util.Locale.ROOT);
    Counter.builder(DECISIONS).tag("participant", participant).tag("region", decision.region()).tag("state", state)
        .description("Quorum decisions by region and state").register(registry).increment();
    DistributionSummary.builder(DETECTION).baseUnit("milliseconds").tag("participant", participant).tag("state", state)
        .description("From the first agreeing observer's suspicion (or health) to the decision")
        .register(registry).record(decision.detectionMs());
    AtomicInteger gauge = up.get(decision.region());
    if (gauge != null) {
      gauge.set(decision.state() == RegionDecision.State.UP ? 1 : 0);
    }
  }

  public void fenced(boolean now) {
    fenced.set(now ? 1 : 0);
  }

  /** A probe or an opinions fetch that failed (the target is a region or the edge). */
  public void pollFailed(String target, String what) {
    Counter.builder(POLL_FAILURES).tag("participant", participant).tag("target", target).tag("what", what)
        .description("Failed failover polls").register(registry).increment();
  }

  /** A region node held DOWN reconciled with its adopter before dispatching again ({@code outcome} ok or failed). */
  public void returnReconciled(boolean ok) {
    Counter.builder(RETURN_RECONCILES).tag("region", participant).tag("outcome", ok ? "ok" : "failed")
        .description("Reconciles of a region node that was held DOWN, before it dispatches again").register(registry)
        .increment();
  }
}
