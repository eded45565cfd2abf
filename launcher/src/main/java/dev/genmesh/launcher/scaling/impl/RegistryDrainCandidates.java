package dev.genmesh.launcher.scaling.impl;

import dev.genmesh.autoscaler.ScalePlan;
import dev.genmesh.launcher.scaling.DrainCandidates;
import dev.genmesh.region.workers.KnownWorker;
import dev.genmesh.region.workers.WorkerState;
import io.vertx.core.Future;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Drain order from what the region node knows of its workers (the worker registry), in the
 * order of the {@code Actuator} contract: workers that are broken or still starting first, then
 * idle ones holding a family of {@link ScalePlan#drainModels} (the family listed first, first),
 * then other idle ones, then busy ones with the fewest requests. Workers that left the cluster
 * are skipped (their pods are gone or going).
 */
public final class RegistryDrainCandidates implements DrainCandidates {
  private final Supplier<? extends Collection<KnownWorker>> workers;
  private final Function<String, String> familyOfModel;

  /**
   * @param workers the registry's current view, e.g. {@code registry::workers}
   * @param familyOfModel model name → {@code autoscaling.model_mix} family
   */
  public RegistryDrainCandidates(Supplier<? extends Collection<KnownWorker>> workers, Function<String, String> familyOfModel) {
    this.workers = workers;
    this.familyOfModel = familyOfModel;
  }

  @Override
  public Future<List<String>> choose(String pool, int surplus, ScalePlan plan) {
    Comparator<KnownWorker> order = Comparator
        .comparingInt((KnownWorker w) -> rank(w, plan))
        .thenComparingInt(w -> w.activeRequests().size())
        .thenComparing(KnownWorker::workerId);
    return Future.succeededFuture(workers.get().stream()
        .filter(w -> pool.equals(w.gpuClass()) && w.state() != WorkerState.GONE)
        .sorted(order)
        .map(KnownWorker::workerId)
        .toList());
  }

  private int rank(KnownWorker worker, ScalePlan plan) {
    if (worker.state() != WorkerState.HEALTHY) {
      return 0;   // NOT_LIVE, UNHEALTHY, NOT_READY (starting), DRAINING: no useful work lost
    }
    if (!worker.activeRequests().isEmpty()) {
      return 2 + plan.drainModels().size();
    }
    int best = plan.drainModels().size();
    for (String model : worker.loadedModels()) {
      int index = plan.drainModels().indexOf(familyOfModel.apply(model));
      if (index >= 0) {
        best = Math.min(best, index);
      }
    }
    return 1 + best;
  }
}
