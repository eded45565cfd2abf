package dev.genmesh.bench.queue;

import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/**
 * What every benchmarked request carries: the same spec on every side (the BullMQ job data is
 * this JSON too), its prompt naming the round and sequence number so a worker can tell which
 * request it finished, and one fixed 512×512 PNG as the result.
 */
final class BenchSpec {
  static final String MODEL = "genmesh-tiny";

  private BenchSpec() {}

  static String prompt(String round, int seq) {
    return "bench-" + round + "-" + seq;
  }

  /** The sequence number of a prompt of {@code round}, or -1 if it belongs to another round. */
  static int seqOf(String prompt, String round) {
    String head = "bench-" + round + "-";
    return prompt != null && prompt.startsWith(head) ? Integer.parseInt(prompt.substring(head.length())) : -1;
  }

  static GenerationSpec spec(String round, int seq) {
    return new GenerationSpec(prompt(round, seq), "", MODEL, Tier.FAST, 512, 512, 20, seq, 7.5, 1);
  }

  static JsonObject json(String round, int seq) {
    return spec(round, seq).toJson();
  }

  private static final int SIZE = 512;
  private static byte[] png;

  /**
   * A 512×512 PNG (the spec's size: the region's safety gate checks it), a smooth colour field
   * that the reference safety service does not take for blank; the same bytes for every result.
   */
  static synchronized byte[] png() {
    if (png != null) {
      return png;
    }
    BufferedImage image = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
    for (int x = 0; x < SIZE; x++) {
      for (int y = 0; y < SIZE; y++) {
        image.setRGB(x, y, (x / 2) << 16 | (y / 2) << 8 | ((x + y) / 4 & 0xff));
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(image, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    png = out.toByteArray();
    return png;
  }
}
