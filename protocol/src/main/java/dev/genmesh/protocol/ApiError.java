package dev.genmesh.protocol;

import io.vertx.core.json.JsonObject;

/** The JSON body of every error answer: {@code {code, message, field?}}. */
public record ApiError(ErrorCode code, String message, String field) {

  public static ApiError of(ErrorCode code, String message) {
    return new ApiError(code, message, null);
  }

  public static ApiError onField(ErrorCode code, String field, String message) {
    return new ApiError(code, message, field);
  }

  public int httpStatus() {
    return code.httpStatus();
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("code", code.wireName()).put("message", message);
    if (field != null) {
      json.put("field", field);
    }
    return json;
  }
}
