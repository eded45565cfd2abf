package dev.genmesh.inference.impl;

import dev.genmesh.inference.pipeline.GenerationCancelledException;
import dev.genmesh.inference.pipeline.ModelCorruptedException;

/** Maps what went wrong on a worker to the failure type the region's retry policy reads. */
public final class FailureTypes {
  public static final String CANCELLED = "cancelled";
  public static final String OOM = "oom";
  public static final String MODEL_CORRUPTED = "model_corrupted";
  public static final String GPU_ERROR = "gpu_error";
  public static final String ERROR = "error";

  private FailureTypes() {}

  public static String classify(Throwable error) {
    for (Throwable e = error; e != null; e = e.getCause()) {
      if (e instanceof GenerationCancelledException) {
        return CANCELLED;
      }
      if (e instanceof ModelCorruptedException) {
        return MODEL_CORRUPTED;
      }
      if (e instanceof org.tensorflow.exceptions.TensorFlowException) {
        String name = e.getClass().getSimpleName();
        String text = String.valueOf(e.getMessage());
        if (name.contains("ResourceExhausted") || text.contains("OOM") || text.contains("out of memory")) {
          return OOM;
        }
        if (text.contains("CUDA") || text.contains("GPU") || text.contains("device")) {
          return GPU_ERROR;
        }
      }
      if (e instanceof OutOfMemoryError) {
        return OOM;
      }
    }
    return ERROR;
  }
}
