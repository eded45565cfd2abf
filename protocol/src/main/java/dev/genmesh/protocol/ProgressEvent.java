package dev.genmesh.protocol;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

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
        .put("time", time.toString());
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
