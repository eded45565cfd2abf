package dev.genmesh.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What an {@code Idempotency-Key} is compared on: SHA-256 (hex) of the caller and a canonical
 * form of the request body, so that a retry with the same JSON value matches whatever its key
 * order, spacing or number spelling ({@code 512}, {@code 512.0}, {@code 5.12e2}), and a key
 * reused with another body or by another caller does not. Pure.
 */
public final class RequestHash {
  private static final String VERSION = "genmesh.request.v1";

  private RequestHash() {}

  /** @param user the caller's id (null counts as the empty string) */
  public static String of(String user, JsonObject body) {
    StringBuilder text = new StringBuilder(VERSION).append('\n').append(user == null ? "" : user).append('\n');
    canonical(body, text);
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  /** True for what {@link #of} returns: 64 lowercase hex digits. */
  public static boolean isWellFormed(String hash) {
    return hash != null && isHex64(hash);
  }

  /** 64 lowercase hex digits (a SHA-256 as text), checked without a regular expression. */
  static boolean isHex64(String text) {
    if (text.length() != 64) {
      return false;
    }
    for (int i = 0; i < 64; i++) {
      char c = text.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
        return false;
      }
    }
    return true;
  }

  /** Keys sorted, no spaces, numbers by value, strings escaped only where JSON requires it. */
  static String canonical(Object value) {
    StringBuilder out = new StringBuilder();
    canonical(value, out);
    return out.toString();
  }

  private static void canonical(Object value, StringBuilder out) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof JsonObject object) {
      canonical(object.getMap(), out);
    } else if (value instanceof JsonArray array) {
      canonical(array.getList(), out);
    } else if (value instanceof Map<?, ?> map) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> entry : new TreeMap<>(map).entrySet()) {
        out.append(first ? "" : ",");
        string(String.valueOf(entry.getKey()), out);
        out.append(':');
        canonical(entry.getValue(), out);
        first = false;
      }
      out.append('}');
    } else if (value instanceof List<?> list) {
      out.append('[');
      for (int i = 0; i < list.size(); i++) {
        out.append(i == 0 ? "" : ",");
        canonical(list.get(i), out);
      }
      out.append(']');
    } else if (value instanceof Number number) {
      out.append(number(number));
    } else if (value instanceof Boolean) {
      out.append(value);
    } else {
      string(value.toString(), out);
    }
  }

  private static String number(Number number) {
    BigDecimal decimal;
    if (number instanceof BigDecimal exact) {
      decimal = exact;
    } else if (number instanceof BigInteger whole) {
      decimal = new BigDecimal(whole);
    } else if (number instanceof Double || number instanceof Float) {
      double d = number.doubleValue();
      if (!Double.isFinite(d)) {
        return String.valueOf(d);
      }
      decimal = BigDecimal.valueOf(d);
    } else {
      decimal = BigDecimal.valueOf(number.longValue());
    }
    // Cheap whatever the exponent: stripping works on the unscaled value, toString stays scientific.
    return decimal.signum() == 0 ? "0" : decimal.stripTrailingZeros().toString();
  }

  private static void string(String text, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    out.append('"');
  }
}
