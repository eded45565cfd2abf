package dev.genmesh.protocol;

import java.security.SecureRandom;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Request ids carry the code of the region that holds the request ({@code usw_...}), so any
 * edge can route a status or stream call without a lookup.
 */
public final class RequestIds {
  private static final char[] ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz".toCharArray();
  private static final Pattern FORMAT = Pattern.compile("[a-z0-9]{2,8}_[0-9a-z]{26}");
  private static final SecureRandom RANDOM = new SecureRandom();

  private RequestIds() {}

  /** A new id: region code, then 10 characters of milliseconds and 16 random ones (time-ordered). */
  public static String next(String regionCode, long nowMs) {
    StringBuilder id = new StringBuilder(regionCode).append('_');
    for (int shift = 45; shift >= 0; shift -= 5) {
      id.append(ALPHABET[(int) ((nowMs >>> shift) & 31)]);
    }
    for (int i = 0; i < 16; i++) {
      id.append(ALPHABET[RANDOM.nextInt(32)]);
    }
    return id.toString();
  }

  public static boolean isWellFormed(String id) {
    return id != null && FORMAT.matcher(id).matches();
  }

  /** The region code an id was issued by, if the id is well formed. */
  public static Optional<String> regionCode(String id) {
    return isWellFormed(id) ? Optional.of(id.substring(0, id.indexOf('_'))) : Optional.empty();
  }
}
