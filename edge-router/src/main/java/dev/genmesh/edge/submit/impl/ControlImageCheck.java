package dev.genmesh.edge.submit.impl;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.zip.CRC32;

/**
 * Checks a request's conditioning image without decoding its pixels: base64, a PNG signature, an
 * IHDR of the requested size, and a whole chunk structure (every CRC right, IDAT present, IEND
 * last). Pure, but up to MBs of work: the edge runs it on its blocking pool, not an event loop.
 */
public final class ControlImageCheck {
  /** The largest control image accepted, as PNG bytes (base64 is 4/3 of it). */
  public static final int MAX_BYTES = 1024 * 1024;
  private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  private ControlImageCheck() {}

  /** Null if {@code base64} is a PNG of width x height within the limit; else what is wrong. */
  static String problem(String base64, int width, int height) {
    if (base64.length() > (MAX_BYTES + 2) / 3 * 4) {
      return "is larger than " + MAX_BYTES + " bytes of PNG";
    }
    byte[] png;
    try {
      png = Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      return "is not base64 (standard alphabet, with padding, no line breaks)";
    }
    if (png.length < SIGNATURE.length + 25 || !startsWithSignature(png)) {
      return "is not a PNG image";
    }
    ByteBuffer in = ByteBuffer.wrap(png);
    in.position(SIGNATURE.length);
    boolean first = true;
    boolean sawData = false;
    while (in.remaining() >= 12) {
      long length = Integer.toUnsignedLong(in.getInt());
      byte[] type = new byte[4];
      in.get(type);
      String name = new String(type, StandardCharsets.US_ASCII);
      if (length > in.remaining() - 4) {
        return "is a truncated PNG (chunk " + name + " runs past the end)";
      }
      int start = in.position();
      CRC32 crc = new CRC32();
      crc.update(type);
      crc.update(png, start, (int) length);
      in.position(start + (int) length);
      if ((int) crc.getValue() != in.getInt()) {
        return "is a damaged PNG (bad CRC in chunk " + name + ")";
      }
      if (first) {
        if (!name.equals("IHDR") || length != 13) {
          return "is not a valid PNG (no IHDR header)";
        }
        int w = ByteBuffer.wrap(png, start, 8).getInt();
        int h = ByteBuffer.wrap(png, start + 4, 4).getInt();
        if (w != width || h != height) {
          return "is " + w + "x" + h + " pixels; it must be the size of the image, " + width + "x" + height;
        }
        first = false;
      } else if (name.equals("IDAT")) {
        sawData = true;
      } else if (name.equals("IEND")) {
        return sawData ? null : "is a PNG without image data";
      }
    }
    return "is a truncated PNG (no IEND chunk)";
  }

  private static boolean startsWithSignature(byte[] png) {
    for (int i = 0; i < SIGNATURE.length; i++) {
      if (png[i] != SIGNATURE[i]) {
        return false;
      }
    }
    return true;
  }
}
