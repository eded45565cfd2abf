package dev.genmesh.users.impl;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

/** Where a page of generations ended: the last entry's creation time and id, opaque to clients (base64url). */
record PageCursor(Instant createdAt, String id) {
  String encode() {
    String plain = createdAt.getEpochSecond() + "." + createdAt.getNano() + "." + id;
    return Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.UTF_8));
  }

  /** @throws IllegalArgumentException when {@code text} is not a cursor {@link #encode} made */
  static PageCursor parse(String text) {
    String plain;
    try {
      plain = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not base64url", e);
    }
    String[] parts = plain.split("\\.", 3);
    if (parts.length != 3 || parts[2].isEmpty()) {
      throw new IllegalArgumentException("not a cursor");
    }
    try {
      return new PageCursor(Instant.ofEpochSecond(Long.parseLong(parts[0]), Long.parseLong(parts[1])), parts[2]);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not a cursor", e);
    }
  }
}
