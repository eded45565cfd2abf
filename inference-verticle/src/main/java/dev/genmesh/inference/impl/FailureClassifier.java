package dev.genmesh.inference.impl;

import dev.genmesh.inference.pipeline.GenerationCancelledException;
import dev.genmesh.inference.pipeline.ModelCorruptedException;
import dev.genmesh.protocol.FailureType;
import org.tensorflow.exceptions.TFFailedPreconditionException;
import org.tensorflow.exceptions.TFResourceExhaustedException;
import org.tensorflow.exceptions.TensorFlowException;

/**
 * Maps what went wrong on a worker to the failure type the region's retry policy reads.
 *
 * <p>TensorFlow Java throws a subclass per status code for some codes (resource exhausted,
 * invalid argument, failed precondition, ...) and a plain {@link TensorFlowException} for the
 * rest (internal, unknown, aborted, unavailable, data loss), which is how CUDA and driver
 * failures reach Java. So: resource exhausted is {@code oom}; a plain TensorFlowException or a
 * failed precondition (a session in a bad state) is {@code gpu_error}, on which the worker
 * restarts its session; the other codes describe the request or the model and are {@code error}.
 */
public final class FailureClassifier {
  private FailureClassifier() {}

  public static String classify(Throwable error) {
    for (Throwable e = error; e != null; e = e.getCause()) {
      if (e instanceof GenerationCancelledException) {
        return FailureType.CANCELLED;
      }
      if (e instanceof ModelCorruptedException) {
        return FailureType.MODEL_CORRUPTED;
      }
      if (e instanceof OutOfMemoryError || e instanceof TFResourceExhaustedException) {
        return FailureType.OOM;
      }
      if (e instanceof TensorFlowException) {
        String text = String.valueOf(e.getMessage());
        if (text.contains("OOM when allocating") || text.contains("out of memory")) {
          return FailureType.OOM;
        }
        if (e.getClass() == TensorFlowException.class || e instanceof TFFailedPreconditionException
            || text.contains("CUDA") || text.contains("GPU")) {
          return FailureType.GPU_ERROR;
        }
        return FailureType.ERROR;
      }
    }
    return FailureType.ERROR;
  }
}
