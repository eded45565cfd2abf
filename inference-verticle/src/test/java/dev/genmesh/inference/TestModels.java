package dev.genmesh.inference;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.ModelConfig;
import dev.genmesh.inference.model.ModelInstaller;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The bundled models as workers build them ({@code <root>/<name>/<version>}), built once per test
 * JVM: building is deterministic, so every test class can share the same copies (read-only).
 */
public final class TestModels {
  private static Path root;

  private TestModels() {}

  /** A model root holding every bundled model of the default configuration. */
  public static synchronized Path root() {
    if (root == null) {
      try {
        root = Files.createTempDirectory("genmesh-test-models");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Runtime.getRuntime().addShutdownHook(new Thread(TestModels::delete));
      for (ModelConfig model : ConfigLoader.defaults().models().values()) {
        ModelInstaller.resolve(model, root);
      }
    }
    return root;
  }

  public static Path tiny() {
    return dir("genmesh-tiny");
  }

  public static Path small() {
    return dir("genmesh-small");
  }

  private static Path dir(String name) {
    ModelConfig model = ConfigLoader.defaults().models().get(name);
    return root().resolve(model.name()).resolve(model.version());
  }

  private static void delete() {
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a temp directory: the OS cleans it up eventually
    }
  }
}
