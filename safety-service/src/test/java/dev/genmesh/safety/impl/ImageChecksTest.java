package dev.genmesh.safety.impl;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImageChecksTest {

  private static byte[] png(BufferedImage image) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "png", out);
    return out.toByteArray();
  }

  private static BufferedImage noise(int width, int height, int type) {
    BufferedImage image = new BufferedImage(width, height, type);
    Random random = new Random(7);
    for (int x = 0; x < width; x++) {
      for (int y = 0; y < height; y++) {
        image.setRGB(x, y, 0xff000000 | random.nextInt(0xffffff));
      }
    }
    return image;
  }

  private static BufferedImage flat(int width, int height, Color color) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int x = 0; x < width; x++) {
      for (int y = 0; y < height; y++) {
        image.setRGB(x, y, color.getRGB());
      }
    }
    return image;
  }

  @Test
  void aVariedPngOfTheRightSizePasses() throws IOException {
    assertThat(ImageChecks.problems(0, png(noise(64, 48, BufferedImage.TYPE_INT_RGB)), 64, 48)).isEmpty();
  }

  @Test
  void theSizeIsReadFromTheHeaderAndMustMatch() throws IOException {
    assertThat(ImageChecks.problems(2, png(noise(64, 48, BufferedImage.TYPE_INT_RGB)), 512, 512))
        .containsExactly("image 2 is 64x48, the request asked for 512x512");
  }

  @Test
  void bytesThatAreNotAPngOrDoNotDecodeAreBlocked() throws IOException {
    assertThat(ImageChecks.problems(0, "hello".getBytes(), 8, 8)).containsExactly("image 0 is not a PNG");
    assertThat(ImageChecks.problems(0, null, 8, 8)).containsExactly("image 0 is not a PNG");
    byte[] good = png(noise(32, 32, BufferedImage.TYPE_INT_RGB));
    byte[] truncated = Arrays.copyOf(good, good.length / 2);
    assertThat(ImageChecks.problems(0, truncated, 32, 32)).singleElement().asString().startsWith("image 0 does not decode");
  }

  @Test
  void degenerateImagesAreBlocked() throws IOException {
    assertThat(ImageChecks.problems(0, png(flat(32, 32, new Color(90, 120, 200))), 32, 32)).singleElement().asString()
        .startsWith("image 0 is blank");
    BufferedImage mostlyBlack = flat(100, 100, Color.BLACK);
    mostlyBlack.setRGB(0, 0, Color.WHITE.getRGB());
    for (int x = 0; x < 100; x++) {
      mostlyBlack.setRGB(x, 50, Color.WHITE.getRGB());
    }
    assertThat(ImageChecks.problems(0, png(mostlyBlack), 100, 100)).singleElement().asString()
        .startsWith("image 0 is degenerate");
    BufferedImage invisible = new BufferedImage(16, 16, BufferedImage.TYPE_INT_ARGB);
    for (int x = 0; x < 16; x++) {
      for (int y = 0; y < 16; y++) {
        invisible.setRGB(x, y, (x * 16) << 8 | y * 16);
      }
    }
    assertThat(ImageChecks.problems(0, png(invisible), 16, 16)).contains("image 0 is fully transparent");
  }
}
