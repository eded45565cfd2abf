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

  /**
   * x [n, k] times w [k, m], one row at a time (a batch of n products of [1, k] and [k, m]).
   * TF's CPU MatMul sums in a different order for 2 rows than for 4 or more, so a plain MatMul
   * would make an image depend, in its last bits, on what else shares its batch; row by row it
   * does not.
   */
  static Operand<TFloat32> rowwise(Ops tf, Operand<TFloat32> x, Operand<TFloat32> w, int m) {
    Operand<TFloat32> rows = tf.expandDims(x, tf.constant(1)); // [n, 1, k]
    Operand<TFloat32> products = tf.train.batchMatMul(rows, w, TFloat32.class); // [n, 1, m]
    return tf.reshape(products, tf.constant(new int[] {-1, m}));
  }

  /** x * sigmoid(x). */
  static Operand<TFloat32> silu(Ops tf, Operand<TFloat32> x) {
    return tf.math.mul(x, tf.math.sigmoid(x));
  }
}
