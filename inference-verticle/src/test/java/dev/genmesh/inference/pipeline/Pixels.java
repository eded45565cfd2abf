package dev.genmesh.inference.pipeline;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** Pixel comparisons of PNGs, per channel in 0..255. */
final class Pixels {

  private Pixels() {}

  static double meanAbsDiff(byte[] a, byte[] b) {
    return meanAbsDiff(a, b, 0, Integer.MAX_VALUE);
  }

  /** Mean absolute difference over the columns [fromX, toX). */
  static double meanAbsDiff(byte[] a, byte[] b, int fromX, int toX) {
    BufferedImage x = read(a);
    BufferedImage y = read(b);
    long sum = 0;
    long count = 0;
    for (int row = 0; row < x.getHeight(); row++) {
      for (int col = fromX; col < Math.min(toX, x.getWidth()); col++) {
        int p = x.getRGB(col, row);
        int q = y.getRGB(col, row);
        for (int shift = 0; shift <= 16; shift += 8) {
          sum += Math.abs(((p >> shift) & 0xff) - ((q >> shift) & 0xff));
          count++;
        }
      }
    }
    return sum / (double) count;
  }

  /**
   * How far the image's mean colour on the mask's bright pixels is from its mean colour on the
   * dark ones (sum over the channels of the absolute difference of the means).
   */
  static double contrast(byte[] png, byte[] maskPng) {
    BufferedImage image = read(png);
    BufferedImage mask = read(maskPng);
    double[] on = new double[3];
    double[] off = new double[3];
    long onCount = 0;
    long offCount = 0;
    for (int row = 0; row < image.getHeight(); row++) {
      for (int col = 0; col < image.getWidth(); col++) {
        boolean bright = (mask.getRGB(col, row) & 0xff) > 127;
        int p = image.getRGB(col, row);
        double[] sums = bright ? on : off;
        for (int c = 0; c < 3; c++) {
          sums[c] += (p >> (8 * c)) & 0xff;
        }
        if (bright) {
          onCount++;
        } else {
          offCount++;
        }
      }
    }
    double contrast = 0;
    for (int c = 0; c < 3; c++) {
      contrast += Math.abs(on[c] / onCount - off[c] / offCount);
    }
    return contrast;
  }

  static BufferedImage read(byte[] png) {
    try {
      return ImageIO.read(new ByteArrayInputStream(png));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
