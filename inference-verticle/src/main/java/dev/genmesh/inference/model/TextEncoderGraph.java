package dev.genmesh.inference.model;

import static dev.genmesh.inference.model.ModelContract.EMBEDDING;
import static dev.genmesh.inference.model.ModelContract.EMBEDDING_DIM;
import static dev.genmesh.inference.model.ModelContract.ENCODE_TEXT;
import static dev.genmesh.inference.model.ModelContract.PAD_TOKEN;
import static dev.genmesh.inference.model.ModelContract.TOKENS;
import static dev.genmesh.inference.model.ModelContract.TOKEN_LENGTH;
import static dev.genmesh.inference.model.ModelContract.VOCAB_SIZE;

import org.tensorflow.Operand;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.ReduceSum;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * {@code encode_text}: token ids [batch, 77] to an embedding [batch, 256]. A lookup table, a pool
 * over the non-pad tokens and one dense layer with tanh. The dense layer has no bias, so an empty
 * prompt encodes to the zero vector: the natural "unconditional" embedding.
 */
final class TextEncoderGraph {

  static final int TOKEN_DIM = 128;

  private TextEncoderGraph() {}

  static Signature build(Ops root, Parameters rootParams) {
    Ops tf = root.withSubScope("text");
    Parameters params = rootParams.in(tf);
    Operand<TFloat32> table = params.gaussian("token_table", 1.0, VOCAB_SIZE, TOKEN_DIM);
    Operand<TFloat32> projection =
        params.gaussian("projection", 1.0 / Math.sqrt(TOKEN_DIM), TOKEN_DIM, EMBEDDING_DIM);

    Placeholder<TInt32> tokens =
        tf.withName(TOKENS)
            .placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, TOKEN_LENGTH)));
    Operand<TFloat32> vectors = tf.gather(table, tokens, tf.constant(0)); // [b, 77, 128]
    Operand<TFloat32> mask =
        tf.dtypes.cast(tf.math.notEqual(tokens, tf.constant(PAD_TOKEN)), TFloat32.class);
    Operand<TFloat32> summed =
        tf.reduceSum(tf.math.mul(vectors, tf.expandDims(mask, tf.constant(-1))), tf.constant(1));
    // Dividing by sqrt(count) keeps the pooled vector at unit scale for long and short prompts.
    Operand<TFloat32> count =
        tf.math.maximum(
            tf.reduceSum(mask, tf.constant(1), ReduceSum.keepDims(true)), tf.constant(1f));
    Operand<TFloat32> pooled = tf.math.div(summed, tf.math.sqrt(count));
    Operand<TFloat32> embedding =
        tf.withName(EMBEDDING).math.tanh(Layers.rowwise(tf, pooled, projection, EMBEDDING_DIM));

    return Signature.builder(ENCODE_TEXT)
        .input(TOKENS, tokens)
        .output(EMBEDDING, embedding)
        .build();
  }
}
