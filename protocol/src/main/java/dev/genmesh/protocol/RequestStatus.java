package dev.genmesh.protocol;

import java.util.Locale;

/** The life cycle of one generation request (docs/architecture.md, "One request, start to end"). */
public enum RequestStatus {
  RECEIVED, QUEUED, ASSIGNED, GENERATING, SAFETY_PENDING, COMPLETED, FAILED, CANCELLED,
  /**
   * Terminal in the region that issued the request: while it was down its peer region adopted the
   * request, which runs it and answers for it from then on (docs/architecture.md, "Fail-back").
   */
  ADOPTED;

  public boolean isTerminal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED || this == ADOPTED;
  }

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static RequestStatus fromWire(String text) {
    return valueOf(text.trim().toUpperCase(Locale.ROOT));
  }
}
