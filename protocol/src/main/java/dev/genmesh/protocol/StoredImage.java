package dev.genmesh.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One finished image as it lives in its region's object store: its key
 * ({@code <request id>/<attempt>/<index>.png}), its size and the SHA-256 of its bytes (hex). What a
 * worker reports instead of the PNG, what the request log records for the attempt that completes,
 * and what the region serves and checks by.
 */
public record StoredImage(String key, long size, String sha256) {
  public StoredImage {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(sha256, "sha256");
  }

  /** A well-formed entry: a key, a positive size and 64 lowercase hex digits. */
  public boolean isWellFormed() {
    return !key.isBlank() && size > 0 && RequestHash.isHex64(sha256);
  }

  public JsonObject toJson() {
    return new JsonObject().put("key", key).put("size", size).put("sha256", sha256);
  }

  public static StoredImage fromJson(JsonObject json) {
    return new StoredImage(json.getString("key", ""), json.getLong("size", 0L), json.getString("sha256", ""));
  }

  public static JsonArray toJson(List<StoredImage> images) {
    JsonArray array = new JsonArray();
    images.forEach(image -> array.add(image.toJson()));
    return array;
  }

  /** The images of a JSON array of objects; null reads as none. */
  public static List<StoredImage> fromJson(JsonArray array) {
    List<StoredImage> out = new ArrayList<>();
    if (array != null) {
      for (int i = 0; i < array.size(); i++) {
        Object item = array.getValue(i);
        if (!(item instanceof JsonObject object)) {
          throw new IllegalArgumentException("images[" + i + "] is not an object");
        }
        out.add(fromJson(object));
      }
    }
    return out;
  }
}
