package dev.genmesh.protocol;

/**
 * Text every store of the mesh can hold: PostgreSQL's {@code text} and {@code jsonb} refuse
 * U+0000, and an unpaired UTF-16 surrogate has no UTF-8 form (JSON encoders replace it, or fail).
 * Pure.
 */
public final class StorableText {
  private StorableText() {}

  /** Null when {@code text} can be stored as it is; else what is wrong with it, as a phrase ("contains ..."). */
  public static String problem(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\u0000') {
        return "contains a NUL character (U+0000) at index " + i;
      }
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
          i++;
          continue;
        }
        return unpaired(c, i);
      }
      if (Character.isLowSurrogate(c)) {
        return unpaired(c, i);
      }
    }
    return null;
  }

  public static boolean isStorable(String text) {
    return problem(text) == null;
  }

  private static String unpaired(char c, int index) {
    return String.format("contains an unpaired surrogate (U+%04X) at index %d", (int) c, index);
  }
}
