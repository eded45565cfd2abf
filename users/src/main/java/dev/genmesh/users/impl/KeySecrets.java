package dev.genmesh.users.impl;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The shape of an API key, {@code gmk_<id>_<secret>}: the id (48 random bits, hex) is public and
 * names the key in listings; the secret is 256 random bits. Only the SHA-256 of the whole key is
 * stored: with that much entropy no salt or slow hash is needed, and a lookup is one index probe.
 */
public final class KeySecrets {
  static final String PREFIX = "gmk_";
  private static final SecureRandom RANDOM = new SecureRandom();

  private KeySecrets() {}

  /** A new key id. */
  static String newId() {
    byte[] id = new byte[6];
    RANDOM.nextBytes(id);
    return HexFormat.of().formatHex(id);
  }

  /** A new whole key for {@code id}. */
  static String newKey(String id) {
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    return PREFIX + id + "_" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
  }

  /** The hex SHA-256 of a presented key, as stored. */
  public static String sha256(String key) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
