package dev.genmesh.inference.pipeline;

/** Told after each denoising step; runs on the generating thread, so it must be quick. */
@FunctionalInterface
public interface StepListener {

  StepListener NONE = (step, totalSteps, nanosInTensorFlow, nanosTotal) -> {};

  /**
   * @param step 1-based number of the step just finished
   * @param totalSteps steps in this generation
   * @param nanosInTensorFlow time of this step spent inside the TensorFlow call
   * @param nanosTotal wall time of this step, including tensor copies on the Java side
   */
  void onStep(int step, int totalSteps, long nanosInTensorFlow, long nanosTotal);

  /**
   * As {@link #onStep(int, int, long, long)}, with the preview PNG of this step when the input
   * asked for previews and this step is one of them (else null). Rendering the preview is not
   * part of the step's times.
   */
  default void onStep(int step, int totalSteps, long nanosInTensorFlow, long nanosTotal,
      byte[] preview) {
    onStep(step, totalSteps, nanosInTensorFlow, nanosTotal);
  }
}
