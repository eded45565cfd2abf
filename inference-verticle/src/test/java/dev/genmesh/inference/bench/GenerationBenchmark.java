package dev.genmesh.inference.bench;

import dev.genmesh.inference.pipeline.DiffusionPipeline;
import dev.genmesh.inference.pipeline.GenerationInput;
import dev.genmesh.inference.pipeline.LoadedModel;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A whole generation as a worker runs it: encode both prompts, 20 steps, decode, one PNG, at
 * 512×512 with batch 1. The secondary results ({@link StepTimes}) split each of its steps into
 * time inside TensorFlow and Java overhead, from the pipeline's own {@code StepListener}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class GenerationBenchmark {

  private static final GenerationInput INPUT =
      new GenerationInput("a red fox in the snow", "blurry", 512, 512, 20, 42, 7.5, 1);

  private BenchModel bench;
  private LoadedModel model;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    bench = BenchModel.buildAndLoad();
    model = bench.model();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    bench.close();
  }

  @Benchmark
  public List<byte[]> generate(StepTimes times) {
    return DiffusionPipeline.generate(model, INPUT,
        (step, total, nanosInTensorFlow, nanosTotal) -> times.record(nanosInTensorFlow,
            nanosTotal),
        () -> false);
  }
}
