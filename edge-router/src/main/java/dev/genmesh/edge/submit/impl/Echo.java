package dev.genmesh.edge.submit.impl;

/**
 * Client text quoted back in an error message: at most a few dozen characters, and nothing a
 * JSON encoder or a terminal would trip on (control characters and unpaired surrogates become
 * U+FFFD). Pure.
 */
public final class Echo {
  private Echo() {}

  public static String of(String text, int maxChars) {
    if (text == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(Math.min(text.length(), maxChars) + 3);
    int i = 0;
    for (; i < text.length() && out.length() < maxChars; i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
        out.append(c).append(text.charAt(++i));
      } else if (Character.isSurrogate(c) || Character.isISOControl(c)) {
        out.append('\ufffd');
      } else {
        out.append(c);
      }
    }
    return i < text.length() ? out.append("...").toString() : out.toString();
  }
}
