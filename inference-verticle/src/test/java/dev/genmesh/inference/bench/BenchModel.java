package dev.genmesh.inference.bench;

import dev.genmesh.inference.model.TinyModelBuilder;
import dev.genmesh.inference.pipeline.LoadedModel;
import dev.genmesh.inference.pipeline.ModelStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** A bundled model, built into a temp directory and loaded as a worker would. */
final class BenchModel implements AutoCloseable {

  /** A worker's default (genmesh-defaults.yaml), so figures match what a worker gets. */
  static final int INTRA_OP_THREADS = 1;
  static final int INTER_OP_THREADS = 1;

  private final Path directory;
  private final LoadedModel model;

  private BenchModel(Path directory, LoadedModel model) {
    this.directory = directory;
    this.model = model;
  }

  static BenchModel buildAndLoad() throws IOException {
    return buildAndLoad(TinyModelBuilder.DEFAULT_NAME);
  }

  /** A bundled model by name ({@code genmesh-tiny}, {@code genmesh-small}), as workers build it. */
  static BenchModel buildAndLoad(String name) throws IOException {
    Path dir = Files.createTempDirectory("genmesh-bench-model");
    TinyModelBuilder.build(dir, name, TinyModelBuilder.DEFAULT_VERSION);
    return new BenchModel(dir, ModelStore.load(dir, INTRA_OP_THREADS, INTER_OP_THREADS));
  }

  LoadedModel model() {
    return model;
  }

  @Override
  public void close() throws IOException {
    model.close();
    try (Stream<Path> walk = Files.walk(directory)) {
      for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }
}
