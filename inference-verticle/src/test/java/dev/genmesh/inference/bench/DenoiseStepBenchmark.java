package dev.genmesh.inference.bench;

import static dev.genmesh.inference.model.ModelContract.LATENT_CHANNELS;
import static dev.genmesh.inference.model.ModelContract.LATENT_DOWNSCALE;

import dev.genmesh.inference.pipeline.LoadedModel;
import dev.genmesh.inference.pipeline.impl.LatentNoise;
import dev.genmesh.inference.pipeline.impl.NhwcArray;
import dev.genmesh.inference.pipeline.impl.NoiseSchedule;
import dev.genmesh.inference.pipeline.impl.Tokenizer;
import java.io.IOException;
import java.util.Arrays;
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
 * One {@code denoise_step} at 512×512 (a 64×64×4 latent per image), the first step of a
 * 20-step schedule, with intra-op threads 1. {@code -p model=genmesh-small} for the larger model. The input is the same on every call, so every
 * call does the same work.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class DenoiseStepBenchmark {

  private static final int SIDE = 512;
  private static final int STEPS = 20;
  private static final float GUIDANCE = 7.5f;

  @Param({"1", "2", "4"})
  public int batch;

  @Param({"genmesh-tiny"})
  public String model;

  private BenchModel bench;
  private LoadedModel loaded;
  private NhwcArray latent;
  private float[][] cond;
  private float[][] uncond;
  private float sigma;
  private float sigmaNext;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    bench = BenchModel.buildAndLoad(this.model);
    loaded = bench.model();
    double[] sigmas = NoiseSchedule.DEFAULT.sigmas(STEPS);
    sigma = (float) sigmas[0];
    sigmaNext = (float) sigmas[1];
    int cells = SIDE / LATENT_DOWNSCALE;
    latent = LatentNoise.gaussian(42, batch, cells, cells, LATENT_CHANNELS, sigmas[0]);
    Tokenizer tokenizer = new Tokenizer();
    float[][] embeddings = loaded.encodeText(new int[][] {
        tokenizer.encode("a red fox in the snow"), tokenizer.encode("blurry")});
    cond = repeat(embeddings[0], batch);
    uncond = repeat(embeddings[1], batch);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    bench.close();
  }

  @Benchmark
  public NhwcArray denoiseStep(StepTimes times) {
    long start = System.nanoTime();
    LoadedModel.StepOutput out = loaded.denoiseStep(latent, cond, uncond, sigma, sigmaNext,
        GUIDANCE);
    times.record(out.nanosInTensorFlow(), System.nanoTime() - start);
    return out.latent();
  }

  private static float[][] repeat(float[] row, int times) {
    float[][] rows = new float[times][];
    Arrays.fill(rows, row);
    return rows;
  }
}
