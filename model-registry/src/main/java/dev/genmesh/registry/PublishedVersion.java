package dev.genmesh.registry;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * One immutable version of a model in a registry: its folder and its {@code manifest.json}.
 *
 * @param createdAt when it was published (the manifest's {@code created_at}); null if unknown
 * @param previousVersion what was current when it was published; null for the first one
 */
public record PublishedVersion(String name, String version, Instant createdAt, String previousVersion,
    JsonObject manifest, Path dir) {

  static PublishedVersion of(Path dir, JsonObject manifest) {
    return new PublishedVersion(manifest.getString("name"), manifest.getString("version"),
        instant(manifest.getValue("created_at")), manifest.getString("previous_version"), manifest, dir);
  }

  public JsonArray files() {
    return manifest.getJsonArray("files", new JsonArray());
  }

  /** The file entry the manifest lists under {@code path}. */
  public Optional<ManifestFile> file(String path) {
    for (Object entry : files()) {
      if (entry instanceof JsonObject file && path.equals(file.getString("path"))) {
        return Optional.of(ManifestFile.fromJson(file));
      }
    }
    return Optional.empty();
  }

  public long sizeBytes() {
    long total = 0;
    for (Object entry : files()) {
      if (entry instanceof JsonObject file && file.getValue("size") instanceof Number size) {
        total += size.longValue();
      }
    }
    return total;
  }

  /** What a listing shows: the manifest without its file list, plus counts. */
  public JsonObject toListingJson() {
    JsonObject summary = manifest.copy();
    summary.remove("files");
    return new JsonObject()
        .put("version", version)
        .put("created_at", createdAt == null ? null : createdAt.toString())
        .put("previous_version", previousVersion)
        .put("file_count", files().size())
        .put("size_bytes", sizeBytes())
        .put("manifest", summary);
  }

  private static Instant instant(Object value) {
    if (!(value instanceof String text)) {
      return null;
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
