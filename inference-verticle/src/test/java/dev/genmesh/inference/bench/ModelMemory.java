package dev.genmesh.inference.bench;

import dev.genmesh.inference.model.TinyModelBuilder;
import dev.genmesh.inference.pipeline.DiffusionPipeline;
import dev.genmesh.inference.pipeline.GenerationInput;
import dev.genmesh.inference.pipeline.LoadedModel;
import dev.genmesh.inference.pipeline.ModelStore;
import dev.genmesh.inference.pipeline.StepListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Memory per loaded model on the CPU runtime: the process's resident set (VmRSS) before and after
 * loading each bundled model, and after one 512×512 generation on it. Not a JMH benchmark; run
 * it with {@code bench/run-tool.sh ModelMemory}. The models are built first and a throw-away copy of the
 * tiny one is loaded and run first, so that TensorFlow's own runtime is not counted as a model.
 */
public final class ModelMemory {

  private ModelMemory() {}

  public static void main(String[] args) throws IOException {
    String[] names = args.length > 0 ? args : new String[] {"genmesh-tiny", "genmesh-small"};
    List<Path> dirs = new ArrayList<>();
    for (String name : names) {
      Path dir = Files.createTempDirectory("genmesh-memory-" + name);
      TinyModelBuilder.build(dir, name, TinyModelBuilder.DEFAULT_VERSION);
      dirs.add(dir);
    }
    long start = rssKb();
    try (LoadedModel runtime = ModelStore.load(dirs.get(0), 1, 1)) {
      use(runtime);
    }
    long base = rssKb();
    System.out.printf("TF runtime warm-up (a model loaded, run, closed): %+.1f MB, RSS %.1f MB%n",
        (base - start) / 1024.0, base / 1024.0);
    List<LoadedModel> keep = new ArrayList<>();
    for (int i = 0; i < names.length; i++) {
      long before = rssKb();
      LoadedModel m = ModelStore.load(dirs.get(i), 1, 1);
      long loaded = rssKb();
      use(m);
      long used = rssKb();
      keep.add(m);
      System.out.printf("%s: loading %+.1f MB, after a 512x512 generation %+.1f MB in all, RSS %.1f MB%n", names[i],
          (loaded - before) / 1024.0, (used - before) / 1024.0, used / 1024.0);
    }
    keep.forEach(LoadedModel::close);
  }

  private static void use(LoadedModel model) {
    DiffusionPipeline.generate(model, new GenerationInput("a red fox", "", 512, 512, 4, 1, 7.5, 1), StepListener.NONE,
        () -> false);
  }

  private static long rssKb() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }
}
