package dev.genmesh.inference.bench;

import dev.genmesh.inference.pipeline.DiffusionPipeline;
import dev.genmesh.inference.pipeline.GenerationInput;
import dev.genmesh.inference.pipeline.StepListener;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What batching requests buys: {@code requests} single-image requests (different prompts and
 * seeds, 512×512, 20 steps) run either as one TensorFlow batch, as the worker does for
 * compatible requests, or one after another. One op is all of them, so images per second is
 * {@code requests / score}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class RequestBatchingBenchmark {

  @Param({"1", "2", "4"})
  public int requests;

  @Param({"batched", "sequential"})
  public String mode;

  @Param({"genmesh-tiny"})
  public String model;

  private BenchModel bench;
  private DiffusionPipeline pipeline;
  private List<DiffusionPipeline.BatchItem> items;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    bench = BenchModel.buildAndLoad(model);
    pipeline = new DiffusionPipeline(bench.model());
    items = new ArrayList<>();
    for (int i = 0; i < requests; i++) {
      GenerationInput in = new GenerationInput("a red fox in the snow, take " + i, "blurry", 512, 512, 20,
          42 + 1000L * i, 7.5, 1);
      items.add(new DiffusionPipeline.BatchItem(in, StepListener.NONE, () -> false));
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    bench.close();
  }

  @Benchmark
  public Object run() {
    if (mode.equals("batched")) {
      return pipeline.generateBatch(items);
    }
    List<List<byte[]>> out = new ArrayList<>();
    for (DiffusionPipeline.BatchItem item : items) {
      out.add(pipeline.generate(item.input(), StepListener.NONE, () -> false));
    }
    return out;
  }
}
