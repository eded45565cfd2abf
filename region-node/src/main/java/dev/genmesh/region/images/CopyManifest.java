package dev.genmesh.region.images;

import dev.genmesh.protocol.StoredImage;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * What a region's bucket of copies holds for one completed request of another region, written
 * after its images (so a manifest names only images that are there): {@code <id>/copy.json}.
 *
 * @param id the request
 * @param origin the region that completed it
 * @param completedAt when it completed there
 * @param images its published images, in order, under the same keys as in the origin's bucket
 */
public record CopyManifest(String id, String origin, Instant completedAt, List<StoredImage> images) {
  public CopyManifest {
    images = List.copyOf(images);
  }

  /** Where the manifest of request {@code id} is, in a bucket of copies. */
  public static String key(String id) {
    return id + "/copy.json";
  }

  public Buffer toBuffer() {
    return new JsonObject().put("id", id).put("origin", origin).put("completed_at", completedAt.toString())
        .put("images", StoredImage.toJson(images)).toBuffer();
  }

  /** The manifest in {@code bytes}; fails with an IllegalArgumentException when they are not one. */
  public static CopyManifest fromBuffer(Buffer bytes) {
    try {
      JsonObject json = bytes.toJsonObject();
      return new CopyManifest(json.getString("id"), json.getString("origin"), Instant.parse(json.getString("completed_at")),
          StoredImage.fromJson(json.getJsonArray("images")));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not a copy manifest: " + e.getMessage(), e);
    }
  }
}
