package dev.genmesh.protocol;

import java.util.Locale;
import java.util.Optional;

/** Service tiers, in dispatch order: turbo before fast before relax. */
public enum Tier {
  TURBO, FAST, RELAX;

  public static final Tier DEFAULT = FAST;
  private static final Tier[] ALL = values();

  /** Lower-cased once: queue keys and rows ask for it on every request. */
  private final String wire = name().toLowerCase(Locale.ROOT);

  /** The name used on the wire and in queue keys. */
  public String wireName() {
    return wire;
  }

  public static Optional<Tier> parse(String text) {
    if (text == null) {
      return Optional.empty();
    }
    for (Tier tier : ALL) {
      if (tier.wire.equals(text)) {
        return Optional.of(tier);
      }
    }
    String normal = text.trim().toLowerCase(Locale.ROOT);
    for (Tier tier : ALL) {
      if (tier.wire.equals(normal)) {
        return Optional.of(tier);
      }
    }
    return Optional.empty();
  }
}
