package dev.genmesh.inference.model;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Assign;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * The model's weights as graph Variables. Values are drawn from one seeded stream in creation
 * order and fed through a placeholder once, so the exported graph holds no second copy of them as
 * constants: the checkpoint in {@code variables/} is their only home.
 */
final class Parameters {

  private record Pending(Placeholder<TFloat32> feed, Assign<TFloat32> assign, Shape shape,
      float[] values) {}

  private final Ops tf;
  private final SplittableRandom random;
  private final List<Pending> pending;

  Parameters(Ops tf, long seed) {
    this(tf, new SplittableRandom(seed), new ArrayList<>());
  }

  private Parameters(Ops tf, SplittableRandom random, List<Pending> pending) {
    this.tf = tf;
    this.random = random;
    this.pending = pending;
  }

  /** The same weight stream, naming variables under {@code scope}. */
  Parameters in(Ops scope) {
    return new Parameters(scope, random, pending);
  }

  /**
   * A second weight stream, seeded on its own, whose variables are assigned with these: weights
   * added to a model later draw from it so that the earlier ones keep their values.
   */
  Parameters stream(long seed) {
    return new Parameters(tf, new SplittableRandom(seed), pending);
  }

  /** Gaussian weights with standard deviation {@code std}. */
  Operand<TFloat32> gaussian(String name, double std, long... dims) {
    return fixed(name, sample((int) Shape.of(dims).size(), std), dims);
  }

  /** Draws {@code n} Gaussians from the weight stream, for weights built by hand. */
  float[] sample(int n, double std) {
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) (nextGaussian() * std);
    }
    return values;
  }

  /** He initialisation for a layer followed by a ReLU-like activation. */
  Operand<TFloat32> he(String name, int fanIn, long... dims) {
    return gaussian(name, Math.sqrt(2.0 / fanIn), dims);
  }

  Operand<TFloat32> zeros(String name, long... dims) {
    return fixed(name, new float[(int) Shape.of(dims).size()], dims);
  }

  /** A variable with values computed by the caller (row-major in {@code dims}). */
  Operand<TFloat32> fixed(String name, float[] values, long... dims) {
    Shape shape = Shape.of(dims);
    if (shape.size() != values.length) {
      throw new IllegalArgumentException(name + ": " + values.length + " values for " + shape);
    }
    Ops named = tf.withSubScope(name);
    Variable<TFloat32> variable = named.withName("weight").variable(shape, TFloat32.class);
    Placeholder<TFloat32> feed =
        named.withName("initial_value").placeholder(TFloat32.class, Placeholder.shape(shape));
    Assign<TFloat32> assign = named.withName("assign").assign(variable, feed);
    pending.add(new Pending(feed, assign, shape, values));
    return variable;
  }

  /** Gives every variable its value; call once, before export. */
  void assignAll(Session session) {
    for (Pending p : pending) {
      try (TFloat32 value = TFloat32.tensorOf(p.shape(), DataBuffers.of(p.values(), true, false));
          Result ignored = session.runner().feed(p.feed(), value).addTarget(p.assign()).run()) {
        // the assignment is the effect
      }
    }
  }

  /** Box-Muller, so the weights do not depend on the JDK's own Gaussian algorithm. */
  private double nextGaussian() {
    double u1 = 1.0 - random.nextDouble(); // (0, 1]: log stays finite
    double u2 = random.nextDouble();
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
  }
}
