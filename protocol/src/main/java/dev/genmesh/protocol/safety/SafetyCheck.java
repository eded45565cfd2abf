package dev.genmesh.protocol.safety;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * What the region asks the Safety API about one finished request: the body of
 * {@code POST /v1/check} (region-node/SAFETY.md). The images are not in it: each is named by its
 * key in the region's object store and a presigned URL the service reads it from, with the size
 * and SHA-256 the worker reported, so that the service can tell a wrong or damaged image.
 */
public record SafetyCheck(String requestId, String prompt, String negativePrompt, int width, int height,
    List<Image> images) {

  /**
   * One image to check.
   *
   * @param url a presigned GET of the object, valid for a short while ({@code images.presign_ttl_ms})
   */
  public record Image(String key, String url, long size, String sha256) {
    public JsonObject toJson() {
      return new JsonObject().put("key", key).put("url", url).put("size", size).put("sha256", sha256);
    }

    /** @throws IllegalArgumentException if a field is missing or of the wrong type */
    public static Image fromJson(JsonObject json) {
      Object url = json.getValue("url");
      Object size = json.getValue("size");
      if (!(url instanceof String text) || text.isBlank()) {
        throw new IllegalArgumentException("url must be a non-empty string");
      }
      if (size != null && !(size instanceof Number)) {
        throw new IllegalArgumentException("size must be a number");
      }
      Object key = json.getValue("key");
      Object sha = json.getValue("sha256");
      if ((key != null && !(key instanceof String)) || (sha != null && !(sha instanceof String))) {
        throw new IllegalArgumentException("key and sha256 must be strings");
      }
      return new Image((String) key, text, size == null ? -1 : ((Number) size).longValue(), (String) sha);
    }
  }

  public SafetyCheck {
    images = List.copyOf(images);
  }

  public JsonObject toJson() {
    JsonArray list = new JsonArray();
    images.forEach(image -> list.add(image.toJson()));
    return new JsonObject()
        .put("request_id", requestId)
        .put("prompt", prompt)
        .put("negative_prompt", negativePrompt == null ? "" : negativePrompt)
        .put("width", width)
        .put("height", height)
        .put("images", list);
  }

  /** The images of a check body's {@code images}; null reads as none. */
  public static List<Image> images(JsonArray array) {
    List<Image> out = new ArrayList<>();
    if (array != null) {
      for (int i = 0; i < array.size(); i++) {
        if (!(array.getValue(i) instanceof JsonObject object)) {
          throw new IllegalArgumentException("images[" + i + "] must be an object {key, url, size, sha256}");
        }
        try {
          out.add(Image.fromJson(object));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("images[" + i + "]: " + e.getMessage());
        }
      }
    }
    return out;
  }
}
