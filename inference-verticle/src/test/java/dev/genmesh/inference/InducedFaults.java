package dev.genmesh.inference;

import dev.genmesh.inference.pipeline.FaultHook;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * A fault hook for tests: the real TF runtime runs every step; before a chosen one, this throws
 * the exception TensorFlow Java itself throws for that failure.
 */
final class InducedFaults implements FaultHook {

  record Call(String model, int step, int images) {}

  final List<Call> calls = new CopyOnWriteArrayList<>();
  private volatile Supplier<RuntimeException> always;
  private volatile int onceAtStep;
  private volatile Supplier<RuntimeException> once;

  @Override
  public void beforeStep(String model, int step, int images) {
    calls.add(new Call(model, step, images));
    Supplier<RuntimeException> error = always;
    if (error == null && once != null && step == onceAtStep) {
      synchronized (this) {
        error = once;
        once = null;
      }
    }
    if (error != null) {
      throw error.get();
    }
  }

  /** Throws once, before the next step number {@code step} of any run. */
  synchronized void once(int step, Supplier<RuntimeException> error) {
    onceAtStep = step;
    once = error;
  }

  /** Throws before every step from now on (also the warm-up runs of session restarts). */
  void always(Supplier<RuntimeException> error) {
    always = error;
  }
}
