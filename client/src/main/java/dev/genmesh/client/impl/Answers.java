package dev.genmesh.client.impl;

import dev.genmesh.client.GenmeshException;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

/** The edge's error answers ({@code {code, message, field?}} and {@code Retry-After}) as {@link GenmeshException}s. */
public final class Answers {
  private Answers() {}

  public static GenmeshException error(int status, MultiMap headers, Buffer body) {
    JsonObject json = null;
    try {
      if (body != null && body.length() > 0 && body.getByte(0) == '{') {
        json = body.toJsonObject();
      }
    } catch (DecodeException e) {
      json = null;
    }
    String code = json != null && json.getValue("code") instanceof String c ? c : "http_" + status;
    String message = json != null && json.getValue("message") instanceof String m ? m
        : "HTTP " + status + (body == null || body.length() == 0 ? "" : ": " + abbreviate(body.toString()));
    String field = json != null && json.getValue("field") instanceof String f ? f : null;
    return new GenmeshException(status, code, message, field, retryAfter(headers), null);
  }

  /** {@code Retry-After} in seconds (the edge sends seconds; an HTTP date is ignored). */
  static Long retryAfter(MultiMap headers) {
    String value = headers == null ? null : headers.get("Retry-After");
    if (value == null) {
      return null;
    }
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static String abbreviate(String text) {
    return text.length() <= 200 ? text : text.substring(0, 200) + "...";
  }
}
