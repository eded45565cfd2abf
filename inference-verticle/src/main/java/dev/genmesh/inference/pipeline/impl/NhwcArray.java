package dev.genmesh.inference.pipeline.impl;

import java.util.Arrays;
import java.util.List;
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

  /** Batch items {@code from} to {@code from + count - 1}, copied. */
  public NhwcArray items(int from, int count) {
    int size = itemSize();
    return new NhwcArray(Arrays.copyOfRange(data, from * size, (from + count) * size), count,
        height, width, channels);
  }

  /** The arrays' items one after another; all must have the same item shape. */
  public static NhwcArray concat(List<NhwcArray> parts) {
    NhwcArray first = parts.get(0);
    int batch = 0;
    for (NhwcArray p : parts) {
      if (p.height != first.height || p.width != first.width || p.channels != first.channels) {
        throw new IllegalArgumentException("cannot stack " + p.shape() + " on " + first.shape());
      }
      batch += p.batch;
    }
    float[] data = new float[batch * first.itemSize()];
    int offset = 0;
    for (NhwcArray p : parts) {
      System.arraycopy(p.data, 0, data, offset, p.data.length);
      offset += p.data.length;
    }
    return new NhwcArray(data, batch, first.height, first.width, first.channels);
  }
}
