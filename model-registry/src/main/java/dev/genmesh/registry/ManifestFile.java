package dev.genmesh.registry;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * One entry of a bundle's {@code files} list in {@code manifest.json}: a file by its path inside
 * the model folder ('/'-separated), with its SHA-256 ({@link Sha256}) and size. The registry
 * checks bundles against these entries; a worker verifies its copies against them.
 */
public record ManifestFile(String path, String sha256, long size) {

  public JsonObject toJson() {
    return new JsonObject().put("path", path).put("sha256", sha256).put("size", size);
  }

  public static ManifestFile fromJson(JsonObject json) {
    return new ManifestFile(json.getString("path"), json.getString("sha256"), json.getLong("size"));
  }

  /** The entries of a manifest's {@code files} (none when it has no list). */
  public static List<ManifestFile> listedIn(JsonObject manifest) {
    List<ManifestFile> files = new ArrayList<>();
    manifest.getJsonArray("files", new JsonArray()).forEach(f -> files.add(fromJson((JsonObject) f)));
    return files;
  }

  /**
   * An entry for every regular file under {@code modelDir} except its manifest, sorted by path so
   * that the manifest of the same model is the same text.
   */
  public static List<ManifestFile> inventory(Path modelDir) throws IOException {
    Path manifest = modelDir.resolve(BundleCheck.MANIFEST);
    try (Stream<Path> walk = Files.walk(modelDir)) {
      List<Path> paths = walk.filter(Files::isRegularFile).filter(p -> !p.equals(manifest)).sorted().toList();
      List<ManifestFile> entries = new ArrayList<>();
      for (Path p : paths) {
        String relative = modelDir.relativize(p).toString().replace('\\', '/');
        entries.add(new ManifestFile(relative, Sha256.of(p), Files.size(p)));
      }
      return entries;
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
