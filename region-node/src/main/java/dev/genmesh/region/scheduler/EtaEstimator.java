package dev.genmesh.region.scheduler;

import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;

/**
 * Queue position and ETA, an approximation (region-node/API.md, "Queue position and ETA").
 * Position = dispatches ahead: the depth of the higher tiers plus the rank in its own tier (for
 * relax, at most what the relax share guarantees). ETA = position × the average run time of
 * recently dispatched requests / live workers + the request's own run time, where run time =
 * steps × the EWMA of the step time its model's workers report. Per node, in memory.
 */
public final class EtaEstimator {
  /** Weight of the newest sample in the moving averages. */
  static final double ALPHA = 0.2;

  private final Map<String, Double> stepMsByModel = new ConcurrentHashMap<>();
  private final double relaxShare;
  private final IntSupplier liveWorkers;
  private volatile double runMsAverage = -1;

  public EtaEstimator(double relaxShare, IntSupplier liveWorkers) {
    this.relaxShare = relaxShare;
    this.liveWorkers = liveWorkers;
  }

  /** A step report: {@code stepMs} for one denoising step of {@code model}. */
  public void observeStep(String model, double stepMs) {
    if (stepMs > 0 && Double.isFinite(stepMs)) {
      stepMsByModel.merge(model, stepMs, (old, sample) -> old + ALPHA * (sample - old));
    }
  }

  /** A dispatch: what it will take feeds the average cost of a request ahead of others. */
  public void observeDispatch(GenerationSpec spec) {
    OptionalLong run = runMs(spec);
    if (run.isPresent()) {
      double sample = run.getAsLong();
      runMsAverage = runMsAverage < 0 ? sample : runMsAverage + ALPHA * (sample - runMsAverage);
    }
  }

  /** steps × the model's step-time EWMA; empty until a step of that model was reported. */
  public OptionalLong runMs(GenerationSpec spec) {
    Double stepMs = stepMsByModel.get(spec.model());
    return stepMs == null ? OptionalLong.empty() : OptionalLong.of(Math.round(stepMs * spec.steps()));
  }

  /**
   * Dispatches ahead of a request at {@code rank} in {@code tier}: turbo's rank; fast adds turbo's
   * depth; relax adds both, but the relax share bounds it by {@code (rank + 1) / share - 1}.
   */
  public long position(Tier tier, long rank, Map<Tier, Long> depths) {
    long ahead = rank;
    for (Tier higher : Tier.values()) {
      if (higher.ordinal() < tier.ordinal()) {
        ahead += depths.getOrDefault(higher, 0L);
      }
    }
    if (tier == Tier.RELAX && relaxShare > 0) {
      ahead = Math.min(ahead, (long) Math.ceil((rank + 1) / relaxShare) - 1);
    }
    return ahead;
  }

  /** Milliseconds until the request should be done, or empty while no step time is known. */
  public OptionalLong etaMs(GenerationSpec spec, long position, long waitMs) {
    OptionalLong own = runMs(spec);
    if (own.isEmpty()) {
      return OptionalLong.empty();
    }
    double perRequest = runMsAverage < 0 ? own.getAsLong() : runMsAverage;
    int workers = Math.max(1, liveWorkers.getAsInt());
    return OptionalLong.of(Math.max(0, waitMs) + Math.round(position * perRequest / workers) + own.getAsLong());
  }
}
