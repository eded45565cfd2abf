package dev.genmesh.registry;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Small model bundles on disk (random bytes and a manifest with their SHA-256), for registry tests. */
final class Bundles {
  private Bundles() {}

  static Path write(Path dir, String name, String version) throws IOException {
    Files.createDirectories(dir.resolve("variables"));
    Random random = new Random((name + version).hashCode());
    JsonArray files = new JsonArray();
    for (String path : new String[] {"saved_model.pb", "variables/variables.index", "variables/variables.data-00000-of-00001"}) {
      byte[] bytes = new byte[1000 + random.nextInt(5000)];
      random.nextBytes(bytes);
      Files.write(dir.resolve(path), bytes);
      files.add(new JsonObject().put("path", path).put("sha256", Sha256.of(bytes)).put("size", bytes.length));
    }
    JsonObject manifest = new JsonObject().put("name", name).put("version", version)
        .put("format", "tensorflow-saved-model")
        .put("width", new JsonObject().put("min", 256).put("max", 1024).put("multiple_of", 64))
        .put("request_classes", new JsonArray().add("sdxl"))
        .put("files", files);
    Files.writeString(dir.resolve("manifest.json"), manifest.encodePrettily(), StandardCharsets.UTF_8);
    return dir;
  }
}
