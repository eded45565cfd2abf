package dev.genmesh.inference.model;

import dev.genmesh.config.ModelConfig;
import dev.genmesh.registry.BundleCheck;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the directory of a configured model. A bundled model (of the family in
 * {@code ModelArchitecture}, chosen by its name) is built on first use into
 * {@code <model root>/<name>/<version>}: into a temporary directory first, then moved into
 * place atomically, so that workers sharing a model root never see half a model.
 */
public final class ModelInstaller {
  private static final Logger LOG = LoggerFactory.getLogger(ModelInstaller.class);

  private ModelInstaller() {}

  public static Path resolve(ModelConfig model, Path modelRoot) {
    if (!model.isBundled()) {
      return Path.of(model.path());
    }
    Path target = modelRoot.resolve(model.name()).resolve(model.version());
    if (Files.isRegularFile(target.resolve(BundleCheck.MANIFEST))) {
      return target;
    }
    try {
      Files.createDirectories(target.getParent());
      Path staging = Files.createTempDirectory(target.getParent(), ".building-");
      LOG.info("building bundled model {} {} into {}", model.name(), model.version(), target);
      TinyModelBuilder.build(staging, model.name(), model.version()); // the architecture its name picks
      try {
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        // Another worker (or process) finished first: rename(2) then fails with "exists" or
        // "not empty", reported differently by JDK versions. Its copy is identical.
        deleteTree(staging);
        if (!Files.isRegularFile(target.resolve(BundleCheck.MANIFEST))) {
          throw e;
        }
      }
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot build bundled model " + model.name() + " in " + target, e);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
