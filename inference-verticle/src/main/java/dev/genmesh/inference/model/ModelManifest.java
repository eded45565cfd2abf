package dev.genmesh.inference.model;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code manifest.json} beside a SavedModel: what the model is, what it accepts, and the SHA-256
 * of every file so that a worker refuses a model that was damaged in transit or on disk.
 */
public record ModelManifest(
    String name,
    String version,
    List<String> signatures,
    Range width,
    Range height,
    Range steps,
    List<FileEntry> files) {

  public static final String FILE_NAME = "manifest.json";

  /** Inclusive bounds; a value must also be a multiple of {@code multipleOf}. */
  public record Range(int min, int max, int multipleOf) {
    public boolean contains(int value) {
      return value >= min && value <= max && value % multipleOf == 0;
    }

    JsonObject toJson() {
      return new JsonObject().put("min", min).put("max", max).put("multiple_of", multipleOf);
    }

    static Range fromJson(JsonObject json) {
      return new Range(
          json.getInteger("min"), json.getInteger("max"), json.getInteger("multiple_of", 1));
    }
  }

  /** One file of the model, by its path relative to the model directory ('/' separated). */
  public record FileEntry(String path, String sha256, long size) {
    JsonObject toJson() {
      return new JsonObject().put("path", path).put("sha256", sha256).put("size", size);
    }

    static FileEntry fromJson(JsonObject json) {
      return new FileEntry(json.getString("path"), json.getString("sha256"), json.getLong("size"));
    }
  }

  public ModelManifest {
    signatures = List.copyOf(signatures);
    files = List.copyOf(files);
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("name", name)
        .put("version", version)
        .put("format", "tensorflow-saved-model")
        .put("tags", new JsonArray().add(ModelContract.SERVE_TAG))
        .put("signatures", new JsonArray(new ArrayList<>(signatures)))
        .put("width", width.toJson())
        .put("height", height.toJson())
        .put("steps", steps.toJson())
        .put(
            "files",
            new JsonArray(files.stream().map(FileEntry::toJson).collect(Collectors.toList())));
  }

  public static ModelManifest fromJson(JsonObject json) {
    List<String> signatures = new ArrayList<>();
    json.getJsonArray("signatures", new JsonArray()).forEach(s -> signatures.add((String) s));
    List<FileEntry> files = new ArrayList<>();
    json.getJsonArray("files", new JsonArray())
        .forEach(f -> files.add(FileEntry.fromJson((JsonObject) f)));
    return new ModelManifest(
        json.getString("name"),
        json.getString("version"),
        signatures,
        Range.fromJson(json.getJsonObject("width")),
        Range.fromJson(json.getJsonObject("height")),
        Range.fromJson(json.getJsonObject("steps")),
        files);
  }

  /** Writes {@code manifest.json} into {@code modelDir}. */
  public void write(Path modelDir) throws IOException {
    Files.writeString(
        modelDir.resolve(FILE_NAME), toJson().encodePrettily() + "\n", StandardCharsets.UTF_8);
  }

  /** Reads {@code manifest.json} from {@code modelDir}. */
  public static ModelManifest read(Path modelDir) throws IOException {
    String text = Files.readString(modelDir.resolve(FILE_NAME), StandardCharsets.UTF_8);
    return fromJson(new JsonObject(text));
  }

  /**
   * Hashes every regular file under {@code modelDir} except the manifest itself, sorted by path
   * so that the manifest of the same model is the same text.
   */
  public static List<FileEntry> inventory(Path modelDir) throws IOException {
    try (Stream<Path> walk = Files.walk(modelDir)) {
      List<Path> paths =
          walk.filter(Files::isRegularFile)
              .filter(p -> !p.equals(modelDir.resolve(FILE_NAME)))
              .sorted()
              .collect(Collectors.toList());
      List<FileEntry> entries = new ArrayList<>();
      for (Path p : paths) {
        String relative = modelDir.relativize(p).toString().replace('\\', '/');
        entries.add(new FileEntry(relative, FileDigest.sha256(p), Files.size(p)));
      }
      return entries;
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
