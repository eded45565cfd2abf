package dev.genmesh.launcher;

import dev.genmesh.inference.model.TinyModelBuilder;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code genmesh build-model}: writes the bundled SavedModel and its SHA-256 manifest. */
@Command(name = "build-model", mixinStandardHelpOptions = true,
    description = "Build the small bundled model (deterministic weights) as a SavedModel with its manifest.")
final class BuildModelCommand implements java.util.concurrent.Callable<Integer> {
  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write (must not exist or be empty).")
  Path out;

  @Option(names = "--name", defaultValue = "genmesh-tiny", description = "Model name (default: ${DEFAULT-VALUE}).")
  String name;

  @Option(names = "--version", defaultValue = "1.0.0", description = "Model version (default: ${DEFAULT-VALUE}).")
  String version;

  @Override
  public Integer call() throws java.io.IOException {
    var manifest = TinyModelBuilder.build(out, name, version);
    System.out.println("built " + manifest.name() + " " + manifest.version() + " in " + out.toAbsolutePath()
        + " (" + manifest.files().size() + " files, SHA-256 in manifest.json)");
    return 0;
  }
}
