package dev.genmesh.protocol;

import java.security.NoSuchAlgorithmException;
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
  /**
   * One DRBG per thread, seeded once from the system's entropy: as unguessable as the default
   * {@code SecureRandom} (NativePRNG), without its global lock and its read of /dev/urandom per call.
   */
  private static final ThreadLocal<SecureRandom> RANDOM = ThreadLocal.withInitial(RequestIds::newRandom);

  private RequestIds() {}

  /** A new id: region code, then 10 characters of milliseconds and 16 random ones (time-ordered). */
  public static String next(String regionCode, long nowMs) {
    StringBuilder id = new StringBuilder(regionCode).append('_');
    for (int shift = 45; shift >= 0; shift -= 5) {
      id.append(ALPHABET[(int) ((nowMs >>> shift) & 31)]);
    }
    byte[] random = new byte[10]; // 80 bits: 16 characters of 5 bits
    RANDOM.get().nextBytes(random);
    appendBase32(id, random, 0);
    appendBase32(id, random, 5);
    return id.toString();
  }

  /** Eight characters from the 40 bits of {@code bytes[from..from+4]}. */
  private static void appendBase32(StringBuilder id, byte[] bytes, int from) {
    long bits = 0;
    for (int i = from; i < from + 5; i++) {
      bits = (bits << 8) | (bytes[i] & 0xff);
    }
    for (int shift = 35; shift >= 0; shift -= 5) {
      id.append(ALPHABET[(int) ((bits >>> shift) & 31)]);
    }
  }

  private static SecureRandom newRandom() {
    try {
      return SecureRandom.getInstance("DRBG");
    } catch (NoSuchAlgorithmException e) {
      return new SecureRandom(); // a JDK without the SUN provider's DRBG
    }
  }

  public static boolean isWellFormed(String id) {
    return id != null && FORMAT.matcher(id).matches();
  }

  /** The region code an id was issued by, if the id is well formed. */
  public static Optional<String> regionCode(String id) {
    return isWellFormed(id) ? Optional.of(id.substring(0, id.indexOf('_'))) : Optional.empty();
  }
}
