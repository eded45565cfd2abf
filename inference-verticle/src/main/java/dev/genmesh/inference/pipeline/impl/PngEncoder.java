package dev.genmesh.inference.pipeline.impl;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** RGB floats in [0, 1] to PNG bytes. The same pixels always give the same bytes. */
public final class PngEncoder {

  private PngEncoder() {}

  /** One PNG for batch item {@code item} of an NHWC image with 3 channels. */
  public static byte[] encode(NhwcArray image, int item) {
    if (image.channels() != 3) {
      throw new IllegalArgumentException("expected RGB, got " + image.channels() + " channels");
    }
    int w = image.width();
    int h = image.height();
    int[] rgb = new int[w * h];
    float[] data = image.data();
    int base = item * image.itemSize();
    for (int p = 0; p < rgb.length; p++) {
      int i = base + p * 3;
      rgb[p] = (toByte(data[i]) << 16) | (toByte(data[i + 1]) << 8) | toByte(data[i + 2]);
    }
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    img.setRGB(0, 0, w, h, rgb, 0, w);
    ByteArrayOutputStream out = new ByteArrayOutputStream(w * h);
    try {
      if (!ImageIO.write(img, "png", out)) {
        throw new IllegalStateException("no PNG writer in this JRE");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    }
    return out.toByteArray();
  }

  private static int toByte(float v) {
    if (!(v > 0f)) {
      return 0; // also NaN
    }
    return v >= 1f ? 255 : Math.round(v * 255f);
  }
}
