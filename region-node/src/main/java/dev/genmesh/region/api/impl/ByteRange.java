package dev.genmesh.region.api.impl;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One HTTP byte range ({@code Range: bytes=first-last}, RFC 9110 section 14) over an object of
 * known size. Several ranges, another unit or a malformed header mean "the whole object" (a server
 * may ignore a Range it does not support); a range past the end is unsatisfiable (416).
 */
public record ByteRange(long first, long last, boolean satisfiable) {
  private static final Pattern SINGLE = Pattern.compile("bytes=(\\d*)-(\\d*)");

  /** The range to serve of an object of {@code size} bytes; null for the whole object. */
  public static ByteRange parse(String header, long size) {
    if (header == null) {
      return null;
    }
    Matcher matcher = SINGLE.matcher(header.trim());
    if (!matcher.matches() || (matcher.group(1).isEmpty() && matcher.group(2).isEmpty())) {
      return null;
    }
    try {
      if (matcher.group(1).isEmpty()) { // the last N bytes
        long suffix = Long.parseLong(matcher.group(2));
        return suffix == 0 ? new ByteRange(0, -1, false) : new ByteRange(Math.max(0, size - suffix), size - 1, size > 0);
      }
      long first = Long.parseLong(matcher.group(1));
      long last = matcher.group(2).isEmpty() ? size - 1 : Math.min(size - 1, Long.parseLong(matcher.group(2)));
      if (!matcher.group(2).isEmpty() && Long.parseLong(matcher.group(2)) < first) {
        return null; // invalid: ignored
      }
      return first >= size ? new ByteRange(first, -1, false) : new ByteRange(first, last, true);
    } catch (NumberFormatException e) {
      return null; // more digits than a long holds
    }
  }

  public long length() {
    return last - first + 1;
  }

  /** The {@code Content-Range} of this range (206) or of an unsatisfiable one (416). */
  public String contentRange(long size) {
    return satisfiable ? "bytes " + first + "-" + last + "/" + size : "bytes */" + size;
  }
}
