package dev.genmesh.inference.pipeline;

import org.tensorflow.ndarray.Shape;

/** A float tensor in NHWC order held on the Java heap: latents and decoded images. */
public record NhwcArray(float[] data, int batch, int height, int width, int channels) {

  public NhwcArray {
    long expected = (long) batch * height * width * channels;
    if (data.length != expected) {
      throw new IllegalArgumentException(
          data.length + " values for " + batch + "x" + height + "x" + width + "x" + channels);
    }
  }

  public Shape shape() {
    return Shape.of(batch, height, width, channels);
  }

  /** Values of one batch item. */
  public int itemSize() {
    return height * width * channels;
  }
}
