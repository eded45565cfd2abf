package dev.genmesh.inference.pipeline;

/**
 * Called by the pipeline just before each denoising step reaches TensorFlow. Production uses
 * {@link #NONE}; tests install a hook that throws the exception TensorFlow itself throws (for
 * example {@code TFResourceExhaustedException}) at a chosen step, so that the worker's OOM and
 * device-error handling runs against the real runtime without a GPU.
 */
@FunctionalInterface
public interface FaultHook {

  FaultHook NONE = (model, step, images) -> {};

  /**
   * @param model the model's name
   * @param step 1-based number of the step about to run
   * @param images batch items in the step
   */
  void beforeStep(String model, int step, int images);
}
