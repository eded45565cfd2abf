package dev.genmesh.launcher.fault;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.ModelConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The bundled model, built once per build directory and shared by the fault tests' workers
 * (a data directory whose {@code models/} already holds it), so that two workers starting at
 * once do not both build it on a two-core machine.
 */
final class ModelCache {
  private static final Path DATA_DIR = Path.of(System.getProperty("basedir", "."), "target", "fault-models").toAbsolutePath();

  private ModelCache() {}

  /** A data directory for {@code genmesh worker --data-dir} with the bundled model in place. */
  static synchronized Path dataDir() {
    for (String name : ConfigLoader.defaults().worker().models()) {
      build(ConfigLoader.defaults().models().get(name));
    }
    return DATA_DIR;
  }

  private static void build(ModelConfig model) {
    Path target = DATA_DIR.resolve("models").resolve(model.name()).resolve(model.version());
    if (Files.isRegularFile(target.resolve("manifest.json"))) {
      return;
    }
    try {
      Files.createDirectories(target.getParent());
      Path staging = Files.createTempDirectory(target.getParent(), ".building-");
      Files.delete(staging); // build-model wants a directory that does not exist yet or is empty
      List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", ChildProcesses.classPath(), "dev.genmesh.launcher.Main", "build-model", "--out", staging.toString(),
          "--name", model.name(), "--version", model.version());
      Process build = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(DATA_DIR.resolve("build-" + model.name() + ".log").toFile()).start();
      try {
        if (!build.waitFor(180, TimeUnit.SECONDS) || build.exitValue() != 0) {
          throw new IllegalStateException("building " + model.name() + " failed; see " + DATA_DIR.resolve("build-" + model.name() + ".log"));
        }
      } finally {
        build.destroyForcibly();
      }
      Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Copies the built model into {@code dataDir/models}, as a worker of {@code genmesh up} there expects it. */
  static void copyInto(Path dataDir) {
    for (String name : ConfigLoader.defaults().worker().models()) {
      copyInto(dataDir, ConfigLoader.defaults().models().get(name));
    }
  }

  private static void copyInto(Path dataDir, ModelConfig model) {
    Path relative = Path.of("models", model.name(), model.version());
    Path from = dataDir().resolve(relative);
    try (Stream<Path> files = Files.walk(from)) {
      for (Path source : files.toList()) {
        Path target = dataDir.resolve(relative).resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
