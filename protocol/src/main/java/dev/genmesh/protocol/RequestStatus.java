package dev.genmesh.protocol;

import java.util.Locale;

/** The life cycle of one generation request (docs/architecture.md, "One request, start to end"). */
public enum RequestStatus {
  RECEIVED, QUEUED, ASSIGNED, GENERATING, SAFETY_PENDING, COMPLETED, FAILED, CANCELLED;

  public boolean isTerminal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED;
  }

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static RequestStatus fromWire(String text) {
    return valueOf(text.trim().toUpperCase(Locale.ROOT));
  }
}
