package dev.genmesh.inference.pipeline;

import static dev.genmesh.inference.model.ModelContract.LATENT_DOWNSCALE;

import dev.genmesh.inference.pipeline.impl.NhwcArray;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;

/**
 * A conditioning image (an edge or depth map) as the control signatures take it: grayscale in
 * [0, 1], averaged over each 8x8 block of pixels, so one value per latent cell.
 */
public final class ControlImage {

  private ControlImage() {}

  /**
   * @return [1, height/8, width/8, 1]
   * @throws IllegalArgumentException if the bytes are not a readable image of width x height
   */
  public static NhwcArray toLatentGrid(byte[] png, int width, int height) {
    BufferedImage image;
    try {
      image = ImageIO.read(new ByteArrayInputStream(png));
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("control image is not a readable PNG: " + e.getMessage());
    }
    if (image == null) {
      throw new IllegalArgumentException("control image is not a readable PNG");
    }
    if (image.getWidth() != width || image.getHeight() != height) {
      throw new IllegalArgumentException("control image is " + image.getWidth() + "x"
          + image.getHeight() + ", the request is " + width + "x" + height);
    }
    float[] gray = grayscale(image);
    int rows = height / LATENT_DOWNSCALE;
    int cols = width / LATENT_DOWNSCALE;
    float[] cells = new float[rows * cols];
    float perCell = LATENT_DOWNSCALE * LATENT_DOWNSCALE;
    for (int y = 0; y < rows * LATENT_DOWNSCALE; y++) {
      for (int x = 0; x < cols * LATENT_DOWNSCALE; x++) {
        cells[(y / LATENT_DOWNSCALE) * cols + x / LATENT_DOWNSCALE] += gray[y * width + x];
      }
    }
    for (int i = 0; i < cells.length; i++) {
      cells[i] /= perCell;
    }
    return new NhwcArray(cells, 1, rows, cols, 1);
  }

  /**
   * Luma from the raster's own samples: {@code getRGB} would first convert a gray PNG from linear
   * gray to sRGB and brighten it.
   */
  private static float[] grayscale(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    float[] out = new float[w * h];
    if (image.getColorModel() instanceof IndexColorModel) {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int rgb = image.getRGB(x, y);
          out[y * w + x] = luma((rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff) / 255f;
        }
      }
      return out;
    }
    Raster raster = image.getRaster();
    int bands = raster.getNumBands();
    float max = (1 << image.getColorModel().getComponentSize(0)) - 1;
    int[] pixel = new int[bands];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        raster.getPixel(x, y, pixel);
        float v = bands >= 3 ? luma(pixel[0], pixel[1], pixel[2]) : pixel[0];
        out[y * w + x] = v / max;
      }
    }
    return out;
  }

  private static float luma(float r, float g, float b) {
    return 0.299f * r + 0.587f * g + 0.114f * b;
  }
}
