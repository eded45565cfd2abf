package dev.genmesh.safety.impl;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;

/**
 * What {@link ImageChecks} measures over every pixel of a decoded image: the sum and sum of
 * squares of the luminance, the count of exactly-black or exactly-white pixels, and the highest
 * alpha. Every pixel counts; nothing is sampled.
 *
 * <p>Why two ways: {@link BufferedImage#getRGB} converts each pixel through the colour model,
 * and that cost most of the reference service's CPU (3/4 of it at 512×512, measured with JFR
 * in the queue bench). The PNGs generators write are 8-bit sRGB RGB or RGBA, which
 * {@code javax.imageio} decodes into one interleaved byte array; for those the samples are read
 * straight from it. For 8-bit sRGB without premultiplied alpha, {@code getRGB} returns these
 * same bytes, so both ways give identical results (PixelStatsTest checks this). Anything else
 * (palette, grey, 16-bit, premultiplied) goes through {@code getRGB} as before.
 */
final class PixelStats {
  long pixels;
  double lumaSum;
  double lumaSquares;
  long clipped;
  int maxAlpha;

  private PixelStats() {}

  static PixelStats of(BufferedImage image) {
    PixelStats fast = fromInterleavedSrgbBytes(image);
    return fast != null ? fast : throughColorModel(image);
  }

  /** The general way: every pixel through {@code getRGB} (sRGB, 8 bits per channel). */
  static PixelStats throughColorModel(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    PixelStats stats = new PixelStats();
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      image.getRGB(0, y, w, 1, row, 0, w);
      for (int argb : row) {
        stats.add((argb >> 16) & 0xff, (argb >> 8) & 0xff, argb & 0xff, (argb >>> 24) & 0xff);
      }
    }
    stats.pixels = (long) w * h;
    return stats;
  }

  /** Null unless the image is 8-bit sRGB RGB/RGBA, not premultiplied, in one interleaved byte array. */
  static PixelStats fromInterleavedSrgbBytes(BufferedImage image) {
    if (!(image.getColorModel() instanceof ComponentColorModel model)
        || !model.getColorSpace().isCS_sRGB() || model.getColorSpace().getType() != ColorSpace.TYPE_RGB
        || model.isAlphaPremultiplied() || model.getTransferType() != DataBuffer.TYPE_BYTE) {
      return null;
    }
    for (int bits : model.getComponentSize()) {
      if (bits != 8) {
        return null;
      }
    }
    Raster raster = image.getRaster();
    int bands = raster.getNumBands();
    boolean alpha = model.hasAlpha();
    if (bands != (alpha ? 4 : 3) || raster.getSampleModelTranslateX() != 0 || raster.getSampleModelTranslateY() != 0
        || !(raster.getSampleModel() instanceof ComponentSampleModel sample)
        || !(raster.getDataBuffer() instanceof DataBufferByte buffer) || buffer.getNumBanks() != 1) {
      return null;
    }
    int[] banks = sample.getBankIndices();
    for (int bank : banks) {
      if (bank != 0) {
        return null;
      }
    }
    int[] offsets = sample.getBandOffsets();
    int pixelStride = sample.getPixelStride();
    int lineStride = sample.getScanlineStride();
    byte[] data = buffer.getData();
    int w = image.getWidth();
    int h = image.getHeight();
    // Locals, not fields, in the hot loop (the JIT keeps them in registers); the same arithmetic,
    // in the same order, as add().
    int red = offsets[0];
    int green = offsets[1];
    int blue = offsets[2];
    int alphaAt = alpha ? offsets[3] : 0;
    double lumaSum = 0;
    double lumaSquares = 0;
    long clipped = 0;
    int maxAlpha = alpha ? 0 : 0xff;
    for (int y = 0; y < h; y++) {
      int at = buffer.getOffset() + y * lineStride;
      for (int x = 0; x < w; x++, at += pixelStride) {
        int r = data[at + red] & 0xff;
        int g = data[at + green] & 0xff;
        int b = data[at + blue] & 0xff;
        double luma = 0.299 * r + 0.587 * g + 0.114 * b;
        lumaSum += luma;
        lumaSquares += luma * luma;
        if ((r | g | b) == 0 || (r & g & b) == 0xff) {
          clipped++;
        }
        if (alpha) {
          maxAlpha = Math.max(maxAlpha, data[at + alphaAt] & 0xff);
        }
      }
    }
    PixelStats stats = new PixelStats();
    stats.pixels = (long) w * h;
    stats.lumaSum = lumaSum;
    stats.lumaSquares = lumaSquares;
    stats.clipped = clipped;
    stats.maxAlpha = maxAlpha;
    return stats;
  }

  private void add(int r, int g, int b, int a) {
    double luma = 0.299 * r + 0.587 * g + 0.114 * b;
    lumaSum += luma;
    lumaSquares += luma * luma;
    if ((r | g | b) == 0 || (r & g & b) == 0xff) {
      clipped++;
    }
    if (a > maxAlpha) {
      maxAlpha = a;
    }
  }
}
