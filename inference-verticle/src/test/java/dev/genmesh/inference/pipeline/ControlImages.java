package dev.genmesh.inference.pipeline;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** Edge-map PNGs for tests: white strokes on black, grayscale. */
final class ControlImages {

  private ControlImages() {}

  /** A ring and a diagonal, the ring centred at (cx, cy) as fractions of the size. */
  static byte[] ring(int width, int height, double cx, double cy) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
    Graphics2D g = image.createGraphics();
    g.setColor(Color.WHITE);
    g.setStroke(new BasicStroke(Math.max(4, width / 20f)));
    int r = Math.min(width, height) / 3;
    g.drawOval((int) (cx * width) - r, (int) (cy * height) - r, 2 * r, 2 * r);
    g.drawLine(0, height - 1, width - 1, 0);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(image, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
