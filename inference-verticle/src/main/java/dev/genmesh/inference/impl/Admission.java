package dev.genmesh.inference.impl;

import dev.genmesh.protocol.FailureType;
import dev.genmesh.protocol.GenerationSpec;

/**
 * Whether a worker takes a request, and how many images of its shape one batch may hold: the
 * model must be loaded, the manifest's memory estimate must fit the budget, and the batch stays
 * under the worker's current limit (which OOMs lower).
 */
public final class Admission {

  /** Why a request is refused; {@code failureType} is what the worker reports. */
  public record Refusal(String failureType, String reason) {}

  private final ModelSet models;
  private final WorkerHealth health;
  private final String workerId;

  public Admission(ModelSet models, WorkerHealth health, String workerId) {
    this.models = models;
    this.health = health;
    this.workerId = workerId;
  }

  /** Null if this worker can run the request as it is; else why not (OOM for memory). */
  public Refusal refusal(RequestRun run) {
    GenerationSpec spec = run.spec();
    if (models.get(spec.model()) == null) {
      return new Refusal(FailureType.ERROR, "model " + spec.model() + " is not loaded on worker " + workerId
          + " (it has " + models.names() + ")");
    }
    long need = models.estimateMb(spec.model(), spec.width(), spec.height(), spec.batchSize());
    long budget = models.budgetMb(spec.model());
    if (need > budget) {
      return new Refusal(FailureType.OOM, "needs about " + need + " MB for " + spec.batchSize() + " image(s) at "
          + spec.width() + "x" + spec.height() + " on " + spec.model() + "; this worker's budget is " + budget + " MB");
    }
    // A control image that is not base64 fails here, not in the batch (decoded off the event loop as claimed).
    String problem = run.inputProblem();
    return problem == null ? null : new Refusal(FailureType.ERROR, "control_image is not base64: " + problem);
  }

  /** Images of {@code spec}'s shape one batch may hold: the batch limit, and the memory budget. */
  public int capacity(GenerationSpec spec) {
    long budget = models.budgetMb(spec.model());
    int images = health.maxBatchImages();
    while (images > 1 && models.estimateMb(spec.model(), spec.width(), spec.height(), images) > budget) {
      images--;
    }
    return images;
  }
}
