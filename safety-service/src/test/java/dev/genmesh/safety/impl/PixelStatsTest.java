package dev.genmesh.safety.impl;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** The direct byte path gives exactly what getRGB gives, on images as ImageIO decodes them. */
class PixelStatsTest {

  private static BufferedImage decoded(BufferedImage image) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "png", out);
    return ImageIO.read(new ByteArrayInputStream(out.toByteArray()));
  }

  private static BufferedImage random(int type, long seed, boolean clipSome) {
    BufferedImage image = new BufferedImage(37, 29, type);
    Random random = new Random(seed);
    for (int x = 0; x < image.getWidth(); x++) {
      for (int y = 0; y < image.getHeight(); y++) {
        int argb = random.nextInt();
        if (clipSome && random.nextInt(4) == 0) {
          argb = random.nextBoolean() ? 0xff000000 : 0xffffffff;
        }
        image.setRGB(x, y, argb);
      }
    }
    return image;
  }

  private static void assertSame(PixelStats fast, PixelStats general) {
    assertThat(fast).isNotNull();
    assertThat(fast.pixels).isEqualTo(general.pixels);
    assertThat(fast.lumaSum).isEqualTo(general.lumaSum);
    assertThat(fast.lumaSquares).isEqualTo(general.lumaSquares);
    assertThat(fast.clipped).isEqualTo(general.clipped);
    assertThat(fast.maxAlpha).isEqualTo(general.maxAlpha);
  }

  @Test
  void rgbPngsGiveWhatGetRgbGives() throws IOException {
    BufferedImage image = decoded(random(BufferedImage.TYPE_INT_RGB, 1, true));
    PixelStats general = PixelStats.throughColorModel(image);
    assertThat(general.clipped).isPositive();
    assertSame(PixelStats.fromInterleavedSrgbBytes(image), general);
  }

  @Test
  void rgbaPngsGiveWhatGetRgbGivesAlphaIncluded() throws IOException {
    BufferedImage image = decoded(random(BufferedImage.TYPE_INT_ARGB, 2, true));
    assertThat(image.getColorModel().hasAlpha()).isTrue();
    PixelStats general = PixelStats.throughColorModel(image);
    assertThat(general.maxAlpha).isBetween(200, 255);
    assertSame(PixelStats.fromInterleavedSrgbBytes(image), general);
  }

  @Test
  void inMemoryBgrImagesUseTheBytesToo() {
    BufferedImage image = random(BufferedImage.TYPE_3BYTE_BGR, 3, false);
    assertSame(PixelStats.fromInterleavedSrgbBytes(image), PixelStats.throughColorModel(image));
  }

  @Test
  void otherLayoutsGoThroughTheColourModel() throws IOException {
    BufferedImage grey = decoded(random(BufferedImage.TYPE_BYTE_GRAY, 4, false));
    assertThat(PixelStats.fromInterleavedSrgbBytes(grey)).isNull();
    assertThat(PixelStats.fromInterleavedSrgbBytes(random(BufferedImage.TYPE_INT_RGB, 5, false))).isNull();
    BufferedImage palette = decoded(random(BufferedImage.TYPE_BYTE_INDEXED, 6, false));
    assertThat(PixelStats.fromInterleavedSrgbBytes(palette)).isNull();
    assertThat(PixelStats.of(palette).pixels).isEqualTo(37L * 29);
  }
}
