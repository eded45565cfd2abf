package dev.genmesh.inference.model;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** The few layer shapes the tiny model is made of. */
final class Layers {

  private static final List<Long> UNIT_STRIDES = List.of(1L, 1L, 1L, 1L);

  private Layers() {}

  /** Same-padded convolution (NHWC) plus a per-channel bias. */
  static Operand<TFloat32> conv(
      Ops tf, Operand<TFloat32> x, Operand<TFloat32> kernel, Operand<TFloat32> bias) {
    return tf.nn.biasAdd(tf.nn.conv2d(x, kernel, UNIT_STRIDES, "SAME"), bias);
  }

  static Operand<TFloat32> dense(
      Ops tf, Operand<TFloat32> x, Operand<TFloat32> weights, Operand<TFloat32> bias) {
    return tf.nn.biasAdd(tf.linalg.matMul(x, weights), bias);
  }

  /** x * sigmoid(x). */
  static Operand<TFloat32> silu(Ops tf, Operand<TFloat32> x) {
    return tf.math.mul(x, tf.math.sigmoid(x));
  }
}
