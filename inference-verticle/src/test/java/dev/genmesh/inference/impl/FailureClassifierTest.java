package dev.genmesh.inference.impl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.inference.pipeline.GenerationCancelledException;
import dev.genmesh.inference.pipeline.ModelCorruptedException;
import org.junit.jupiter.api.Test;
import org.tensorflow.exceptions.TFFailedPreconditionException;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.exceptions.TFResourceExhaustedException;
import org.tensorflow.exceptions.TensorFlowException;

class FailureClassifierTest {

  @Test
  void tensorFlowStatusCodesMapToFailureTypes() {
    assertThat(FailureClassifier.classify(new TFResourceExhaustedException(
        "OOM when allocating tensor with shape[8,128,128,64] on /job:localhost/device:GPU:0"))).isEqualTo("oom");
    assertThat(FailureClassifier.classify(new TensorFlowException("CUDA error: an illegal memory access was encountered")))
        .as("INTERNAL and other codes without a class of their own").isEqualTo("gpu_error");
    assertThat(FailureClassifier.classify(new TFFailedPreconditionException("GPU sync failed"))).isEqualTo("gpu_error");
    assertThat(FailureClassifier.classify(new TFInvalidArgumentException("Incompatible shapes: [1,32] vs. [1,64]")))
        .isEqualTo("error");
    assertThat(FailureClassifier.classify(new RuntimeException("wrapped", new TFResourceExhaustedException("x"))))
        .isEqualTo("oom");
    assertThat(FailureClassifier.classify(new OutOfMemoryError("Java heap space"))).isEqualTo("oom");
    assertThat(FailureClassifier.classify(new GenerationCancelledException(2, 10))).isEqualTo("cancelled");
    assertThat(FailureClassifier.classify(new ModelCorruptedException("saved_model.pb", "is missing")))
        .isEqualTo("model_corrupted");
    assertThat(FailureClassifier.classify(new IllegalArgumentException("size 500x512"))).isEqualTo("error");
  }
}
