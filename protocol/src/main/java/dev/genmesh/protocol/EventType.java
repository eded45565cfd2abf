package dev.genmesh.protocol;

import java.util.Locale;

/** The {@code type} of a progress event on a request's stream. */
public enum EventType {
  QUEUED, ASSIGNED, STEP, SAFETY_PENDING, COMPLETED, FAILED, CANCELLED,
  /** The request moved to its model's fallback while the model's circuit breaker is open: from, to, reason. */
  FALLBACK,
  /**
   * The request's region was declared down and its peer region adopted it from the replica of its
   * log: from, to, reason, position, eta_ms (and waiting, when the adopter cannot serve it yet).
   */
  REGION_FAILOVER;

  private static final EventType[] ALL = values();

  /** Lower-cased once: every event written, published and streamed asks for it. */
  private final String wire = name().toLowerCase(Locale.ROOT);

  public String wireName() {
    return wire;
  }

  public static EventType fromWire(String text) {
    for (EventType type : ALL) {
      if (type.wire.equals(text)) {
        return type;
      }
    }
    return valueOf(text.trim().toUpperCase(Locale.ROOT));
  }

  /** True for the last event a stream carries. */
  public boolean isFinal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED;
  }
}
