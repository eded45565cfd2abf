package dev.genmesh.protocol;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * One event on a request's stream. {@code seq} is the event id: it grows by one per event
 * of a request, so a client resumes with "events after seq N".
 *
 * <p>{@code data} holds the type's fields: {@code queued}: position; {@code assigned}: worker,
 * attempt; {@code step}: step, total, step_ms; {@code completed}: images (URLs or paths);
 * {@code failed}: code, message; {@code fallback}: from, to, reason.
 */
public record ProgressEvent(String requestId, long seq, EventType type, Instant time, JsonObject data) {

  public JsonObject toJson() {
    return data.copy()
        .put("id", seq)
        .put("request_id", requestId)
        .put("type", type.wireName())
        .put("time", text(time));
  }

  /** Last second {@link #text} writes itself (9999-12-31T23:59:59Z); later ones and earlier than 1970 go to the JDK. */
  private static final long LAST_FAST_SECOND = 253_402_300_799L;

  /**
   * {@code time.toString()} (ISO-8601 UTC, the fraction in groups of three digits, none when zero) without
   * the cost of the JDK's formatter: every published and streamed event asks for it.
   */
  static String text(Instant time) {
    long second = time.getEpochSecond();
    if (second < 0 || second > LAST_FAST_SECOND) {
      return time.toString();
    }
    int nano = time.getNano();
    LocalDateTime at = LocalDateTime.ofEpochSecond(second, 0, ZoneOffset.UTC);
    StringBuilder out = new StringBuilder(30);
    pad(out, at.getYear(), 4).append('-');
    pad(out, at.getMonthValue(), 2).append('-');
    pad(out, at.getDayOfMonth(), 2).append('T');
    pad(out, at.getHour(), 2).append(':');
    pad(out, at.getMinute(), 2).append(':');
    pad(out, at.getSecond(), 2);
    if (nano != 0) {
      out.append('.');
      if (nano % 1_000_000 == 0) {
        pad(out, nano / 1_000_000, 3);
      } else if (nano % 1_000 == 0) {
        pad(out, nano / 1_000, 6);
      } else {
        pad(out, nano, 9);
      }
    }
    return out.append('Z').toString();
  }

  private static StringBuilder pad(StringBuilder out, int value, int digits) {
    for (int limit = 10, left = digits - 1; left > 0; limit *= 10, left--) {
      if (value < limit) {
        out.append("0".repeat(left));
        break;
      }
    }
    return out.append(value);
  }

  public static ProgressEvent fromJson(JsonObject json) {
    JsonObject data = json.copy();
    data.remove("id");
    data.remove("request_id");
    data.remove("type");
    data.remove("time");
    return new ProgressEvent(
        json.getString("request_id"),
        json.getLong("id"),
        EventType.fromWire(json.getString("type")),
        Instant.parse(json.getString("time")),
        data);
  }
}
