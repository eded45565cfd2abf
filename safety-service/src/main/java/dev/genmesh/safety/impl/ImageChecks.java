package dev.genmesh.safety.impl;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * The reference service's image checks: each image must be a PNG that decodes
 * (javax.imageio), of the size the request asked for (read from the header before the pixels
 * are decoded, so an oversized image is never inflated), and not degenerate: not one flat
 * colour, not fully transparent, not almost all pure black or pure white (what a diverged
 * sampler, NaNs or a broken decoder produce). Nothing here looks at what the image shows.
 * CPU-bound: run it off the event loop.
 */
public final class ImageChecks {
  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  /** Below this standard deviation of luminance (0-255) an image counts as one flat colour. */
  static final double MIN_LUMA_SPREAD = 2.0;
  /** At or above this share of exactly-black or exactly-white pixels an image counts as degenerate. */
  static final double MAX_CLIPPED_SHARE = 0.99;
  /** Alpha at or below this everywhere: fully transparent. */
  private static final int INVISIBLE_ALPHA = 8;

  private ImageChecks() {}

  /** The reasons to block image {@code index}; empty when it passes. */
  public static List<String> problems(int index, byte[] bytes, int width, int height) {
    String name = "image " + index;
    if (bytes == null || bytes.length <= PNG_SIGNATURE.length
        || !Arrays.equals(bytes, 0, PNG_SIGNATURE.length, PNG_SIGNATURE, 0, PNG_SIGNATURE.length)) {
      return List.of(name + " is not a PNG");
    }
    // In memory: ImageIO.createImageInputStream would cache the stream in a temporary file.
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        return List.of(name + " does not decode as a PNG (no reader accepts it)");
      }
      ImageReader reader = readers.next();
      try {
        reader.setInput(in, true, true);
        int w = reader.getWidth(0);
        int h = reader.getHeight(0);
        if (w != width || h != height) {
          return List.of(name + " is " + w + "x" + h + ", the request asked for " + width + "x" + height);
        }
        return pixelProblems(name, reader.read(0));
      } finally {
        reader.dispose();
      }
    } catch (IOException | RuntimeException e) {
      return List.of(name + " does not decode as a PNG (" + e.getMessage() + ")");
    }
  }

  private static List<String> pixelProblems(String name, BufferedImage image) {
    PixelStats stats = PixelStats.of(image);
    long pixels = stats.pixels;
    double mean = stats.lumaSum / pixels;
    double spread = Math.sqrt(Math.max(0, stats.lumaSquares / pixels - mean * mean));
    List<String> problems = new ArrayList<>();
    if (image.getColorModel().hasAlpha() && stats.maxAlpha <= INVISIBLE_ALPHA) {
      problems.add(name + " is fully transparent");
    }
    if (spread < MIN_LUMA_SPREAD) {
      problems.add(name + " is blank: one flat colour (luminance spread " + String.format(java.util.Locale.ROOT, "%.2f", spread) + ")");
    } else if ((double) stats.clipped / pixels >= MAX_CLIPPED_SHARE) {
      problems.add(name + " is degenerate: " + Math.round(100.0 * stats.clipped / pixels) + " % of its pixels are pure black or white");
    }
    return problems;
  }
}
