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
public final class FailureTypes {
  public static final String CANCELLED = FailureType.CANCELLED;
  public static final String DRAINED = FailureType.DRAINED;
  public static final String OOM = FailureType.OOM;
  public static final String MODEL_CORRUPTED = FailureType.MODEL_CORRUPTED;
  /** Not from {@link #classify}: the worker reports it when a model it lists would not load for a request. */
  public static final String MODEL_LOAD_FAILED = FailureType.MODEL_LOAD_FAILED;
  public static final String GPU_ERROR = FailureType.GPU_ERROR;
  public static final String ERROR = FailureType.ERROR;

  private FailureTypes() {}

  public static String classify(Throwable error) {
    for (Throwable e = error; e != null; e = e.getCause()) {
      if (e instanceof GenerationCancelledException) {
        return CANCELLED;
      }
      if (e instanceof ModelCorruptedException) {
        return MODEL_CORRUPTED;
      }
      if (e instanceof OutOfMemoryError || e instanceof TFResourceExhaustedException) {
        return OOM;
      }
      if (e instanceof TensorFlowException) {
        String text = String.valueOf(e.getMessage());
        if (text.contains("OOM when allocating") || text.contains("out of memory")) {
          return OOM;
        }
        if (e.getClass() == TensorFlowException.class || e instanceof TFFailedPreconditionException
            || text.contains("CUDA") || text.contains("GPU")) {
          return GPU_ERROR;
        }
        return ERROR;
      }
    }
    return ERROR;
  }
}
