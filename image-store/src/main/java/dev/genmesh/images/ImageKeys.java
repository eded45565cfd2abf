package dev.genmesh.images;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where an attempt's images live in a region's bucket: {@code <request id>/<attempt>/<index>.png}.
 * Attempt-scoped, so a second attempt of a request (a lost lease, a hung worker that wakes up)
 * never overwrites the first one's images: only the attempt that completes is published (its keys
 * recorded in the request log), and the others' objects are orphans for the sweeper.
 */
public final class ImageKeys {
  /** Request ids are {@code <region code>_<alphanumerics>}: nothing that needs escaping in a key. */
  private static final Pattern KEY = Pattern.compile("([a-z0-9]+_[A-Za-z0-9]+)/(\\d{1,9})/(\\d{1,4})\\.png");

  /** A key taken apart. */
  public record Parsed(String requestId, int attempt, int index) {}

  private ImageKeys() {}

  /** The key of image {@code index} of {@code attempt} of request {@code requestId}. */
  public static String of(String requestId, int attempt, int index) {
    if (requestId.indexOf('/') >= 0 || attempt < 0 || index < 0) {
      throw new IllegalArgumentException("no image key for " + requestId + " attempt " + attempt + " index " + index);
    }
    return requestId + "/" + attempt + "/" + index + ".png";
  }

  /** The prefix of every image of every attempt of a request. */
  public static String requestPrefix(String requestId) {
    return requestId + "/";
  }

  /** The key taken apart; empty for a key that is not an image key. */
  public static Optional<Parsed> parse(String key) {
    Matcher matcher = KEY.matcher(key == null ? "" : key);
    if (!matcher.matches()) {
      return Optional.empty();
    }
    return Optional.of(new Parsed(matcher.group(1), Integer.parseInt(matcher.group(2)), Integer.parseInt(matcher.group(3))));
  }

  /** True if {@code key} is image {@code index} of {@code attempt} of {@code requestId}. */
  public static boolean isOf(String key, String requestId, int attempt, int index) {
    return of(requestId, attempt, index).equals(key);
  }
}
