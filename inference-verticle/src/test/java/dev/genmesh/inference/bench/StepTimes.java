package dev.genmesh.inference.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Secondary JMH results: where the time of the denoising steps went, from the same two clocks
 * the pipeline hands to its {@code StepListener}, for the very steps the primary score timed.
 *
 * <p>JMH sums EVENTS counters over all measurement iterations and forks (no mean, no error), so
 * these are plain totals and the ratios are taken afterwards: Java overhead in % of step time is
 * {@code javaOverheadMs / stepMs}, per step it is {@code javaOverheadMs / steps}. A per-iteration
 * mean would come out multiplied by the iteration count.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class StepTimes {

  private long steps;
  private long nanosTotal;
  private long nanosInTensorFlow;

  @Setup(Level.Iteration)
  public void reset() {
    steps = 0;
    nanosTotal = 0;
    nanosInTensorFlow = 0;
  }

  void record(long stepNanosInTensorFlow, long stepNanosTotal) {
    steps++;
    nanosInTensorFlow += stepNanosInTensorFlow;
    nanosTotal += stepNanosTotal;
  }

  public long steps() {
    return steps;
  }

  /** Wall time of the steps as the pipeline measures it. */
  public double stepMs() {
    return nanosTotal / 1e6;
  }

  /** Of which inside the TensorFlow call. */
  public double tfMs() {
    return nanosInTensorFlow / 1e6;
  }

  /** Of which in Java: building the input tensors, copying the output latent to the heap. */
  public double javaOverheadMs() {
    return (nanosTotal - nanosInTensorFlow) / 1e6;
  }
}
