package dev.genmesh.region.node;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.util.function.Function;

/** Reads event-bus bodies: JSON objects, or JSON text / buffers from senders that encode themselves. */
public final class BusBodies {
  private BusBodies() {}

  /** The parsed body, or null when it is not a JSON object or {@code parse} rejects it. */
  public static <T> T parse(Message<?> message, Function<JsonObject, T> parse) {
    try {
      Object body = message.body();
      JsonObject json;
      if (body instanceof JsonObject object) {
        json = object;
      } else if (body instanceof String text) {
        json = new JsonObject(text);
      } else if (body instanceof Buffer buffer) {
        json = buffer.toJsonObject();
      } else {
        return null;
      }
      return parse.apply(json);
    } catch (DecodeException | ClassCastException | NullPointerException | IllegalArgumentException e) {
      return null;
    }
  }
}
