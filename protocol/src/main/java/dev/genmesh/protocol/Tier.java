package dev.genmesh.protocol;

import java.util.Locale;
import java.util.Optional;

/** Service tiers, in dispatch order: turbo before fast before relax. */
public enum Tier {
  TURBO, FAST, RELAX;

  public static final Tier DEFAULT = FAST;

  /** The name used on the wire and in queue keys. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<Tier> parse(String text) {
    if (text == null) {
      return Optional.empty();
    }
    for (Tier tier : values()) {
      if (tier.wireName().equals(text.trim().toLowerCase(Locale.ROOT))) {
        return Optional.of(tier);
      }
    }
    return Optional.empty();
  }
}
