package dev.genmesh.launcher.chaos;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The model files of {@code genmesh up --chaos} as a fault point: {@link #corrupt} damages the
 * weights ({@code variables/variables.data-*}) of every version of a model in every region's
 * registry and in the workers' shared model cache, keeping the pristine bytes in memory;
 * {@link #restore} puts them back. A worker that starts (or re-pulls) meanwhile finds its cached
 * copy corrupted, pulls again, gets bytes that fail the manifest's SHA-256 on every pull, has no
 * good version to roll back to, and fails to load the model; workers that loaded it before keep
 * serving it from memory. Sizes are kept, so only the checksum tells. Files are replaced by an
 * atomic rename, as the registry publishes. {@link #close} restores what is still corrupted.
 */
public final class ModelFaults implements AutoCloseable {
  private final Path registryRoot;
  private final Path modelRoot;
  /** Corrupted file → its pristine bytes, per model. */
  private final Map<String, Map<Path, byte[]>> corrupted = new LinkedHashMap<>();

  /**
   * @param registryRoot the region registries ({@code <root>/<region>/<model>/<version>/})
   * @param modelRoot the workers' model cache ({@code <root>/<model>/<version>/})
   */
  public ModelFaults(Path registryRoot, Path modelRoot) {
    this.registryRoot = registryRoot;
    this.modelRoot = modelRoot;
  }

  /** Corrupts {@code model}'s weights wherever they are (again, for copies pulled since); {@code {model, files}}. */
  public synchronized JsonObject corrupt(String model) {
    Map<Path, byte[]> kept = corrupted.computeIfAbsent(model, m -> new LinkedHashMap<>());
    JsonArray files = new JsonArray();
    for (Path weights : weights(model)) {
      try {
        byte[] bytes = Files.readAllBytes(weights);
        if (kept.containsKey(weights) && !java.util.Arrays.equals(bytes, kept.get(weights))) {
          files.add(weights.toString()); // still corrupted from before
          continue;
        }
        kept.put(weights, bytes.clone());
        for (int i = 0; i < bytes.length; i += 4096) {
          bytes[i] ^= 0x5a;
        }
        replace(weights, bytes);
        files.add(weights.toString());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot corrupt " + weights, e);
      }
    }
    if (files.isEmpty()) {
      corrupted.remove(model);
      throw new IllegalStateException("no files of model " + model + " under " + registryRoot + " or " + modelRoot);
    }
    return new JsonObject().put("model", model).put("corrupt", true).put("files", files);
  }

  /**
   * Puts back the pristine bytes of {@code model}'s files; a file whose folder is gone (a worker
   * evicted its bad cached copy) is left gone: the next pull fetches it whole.
   */
  public synchronized JsonObject restore(String model) {
    JsonArray files = new JsonArray();
    Map<Path, byte[]> kept = corrupted.remove(model);
    if (kept != null) {
      kept.forEach((file, bytes) -> {
        if (Files.isDirectory(file.getParent())) {
          try {
            replace(file, bytes);
            files.add(file.toString());
          } catch (IOException e) {
            throw new UncheckedIOException("cannot restore " + file, e);
          }
        }
      });
    }
    return new JsonObject().put("model", model).put("corrupt", false).put("files", files);
  }

  /** {@code {model: corrupted file count}}. */
  public synchronized JsonObject describe() {
    JsonObject all = new JsonObject();
    corrupted.forEach((model, files) -> all.put(model, files.size()));
    return all;
  }

  private List<Path> weights(String model) {
    List<Path> versionDirs = new ArrayList<>(children(modelRoot.resolve(model)));
    children(registryRoot).forEach(region -> versionDirs.addAll(children(region.resolve(model))));
    List<Path> out = new ArrayList<>();
    for (Path version : versionDirs) {
      children(version.resolve("variables")).stream()
          .filter(f -> f.getFileName().toString().startsWith("variables.data") && Files.isRegularFile(f)).forEach(out::add);
    }
    return out;
  }

  private static List<Path> children(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> list = Files.list(dir)) {
      return list.sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }

  private static void replace(Path file, byte[] bytes) throws IOException {
    Path temp = file.resolveSibling(file.getFileName() + ".chaos-tmp");
    Files.write(temp, bytes);
    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  @Override
  public synchronized void close() {
    List.copyOf(corrupted.keySet()).forEach(this::restore);
  }
}
