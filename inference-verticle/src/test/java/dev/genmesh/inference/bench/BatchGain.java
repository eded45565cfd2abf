package dev.genmesh.inference.bench;

import dev.genmesh.inference.pipeline.DiffusionPipeline;
import dev.genmesh.inference.pipeline.GenerationInput;
import dev.genmesh.inference.pipeline.StepListener;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The gain of batching requests, measured so that both ways see the same machine load: rounds
 * that alternate one batched run of N single-image requests (512×512, 20 steps, different prompts
 * and seeds) with the same N requests one after another. Prints the median and fastest time of
 * each and images per second. On a shared machine JMH's separate trials for the two ways drift
 * apart with the load; alternating keeps the comparison fair. Run with
 * {@code bench/run-tool.sh BatchGain [requests] [rounds] [model]}.
 */
public final class BatchGain {

  private BatchGain() {}

  public static void main(String[] args) throws IOException {
    int requests = args.length > 0 ? Integer.parseInt(args[0]) : 4;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 12;
    String model = args.length > 2 ? args[2] : "genmesh-tiny";
    try (BenchModel bench = BenchModel.buildAndLoad(model)) {
      DiffusionPipeline pipeline = new DiffusionPipeline(bench.model());
      List<DiffusionPipeline.BatchItem> items = new ArrayList<>();
      for (int i = 0; i < requests; i++) {
        items.add(new DiffusionPipeline.BatchItem(new GenerationInput("a red fox in the snow, take " + i, "blurry",
            512, 512, 20, 42 + 1000L * i, 7.5, 1), StepListener.NONE, () -> false));
      }
      for (int i = 0; i < 3; i++) { // warm-up
        pipeline.generateBatch(items);
        sequential(pipeline, items);
      }
      double[] batched = new double[rounds];
      double[] oneByOne = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        long start = System.nanoTime();
        pipeline.generateBatch(items);
        long middle = System.nanoTime();
        sequential(pipeline, items);
        long end = System.nanoTime();
        batched[r] = (middle - start) / 1e6;
        oneByOne[r] = (end - middle) / 1e6;
      }
      report(model, requests, "batched", batched);
      report(model, requests, "one by one", oneByOne);
      System.out.printf("%s: batching %d requests takes %.2f of the time one by one (medians)%n", model, requests,
          median(batched) / median(oneByOne));
    }
  }

  private static void sequential(DiffusionPipeline pipeline, List<DiffusionPipeline.BatchItem> items) {
    for (DiffusionPipeline.BatchItem item : items) {
      pipeline.generate(item.input(), StepListener.NONE, () -> false);
    }
  }

  private static void report(String model, int requests, String how, double[] ms) {
    double median = median(ms);
    double fastest = Arrays.stream(ms).min().orElseThrow();
    System.out.printf("%s, %d requests %s: median %.0f ms, fastest %.0f ms, %.2f images/s (median)%n", model, requests,
        how, median, fastest, requests * 1000 / median);
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }
}
