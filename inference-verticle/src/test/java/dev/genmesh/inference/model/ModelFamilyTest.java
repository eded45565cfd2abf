package dev.genmesh.inference.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.inference.TestModels;
import dev.genmesh.inference.pipeline.DiffusionPipeline;
import dev.genmesh.inference.pipeline.GenerationInput;
import dev.genmesh.inference.pipeline.LoadedModel;
import dev.genmesh.inference.pipeline.ModelStore;
import dev.genmesh.inference.pipeline.StepListener;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.tensorflow.GraphOperation;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.ndarray.Shape;

/** The two base models of the bundled family: different weights, different images, different step costs. */
class ModelFamilyTest {

  @Test
  void theNamePicksTheArchitecture() {
    assertThat(ModelArchitecture.forModelName("genmesh-small")).isEqualTo(ModelArchitecture.SMALL);
    assertThat(ModelArchitecture.forModelName("genmesh-tiny")).isEqualTo(ModelArchitecture.TINY);
    assertThat(ModelArchitecture.forModelName("tiny-test")).isEqualTo(ModelArchitecture.TINY);
    assertThat(ModelArchitecture.SMALL.defaultWeightSeed()).isNotEqualTo(ModelArchitecture.TINY.defaultWeightSeed());
  }

  @Test
  void theSmallModelDeclaresItsOwnClassesAndNoAdaptersOrConditioning() throws Exception {
    ModelManifest small = ModelManifest.read(TestModels.small());
    assertThat(small.signatures()).containsExactly(ModelContract.ENCODE_TEXT, ModelContract.DENOISE_STEP,
        ModelContract.DECODE);
    assertThat(small.adapters()).isEmpty();
    assertThat(small.conditioning()).isEmpty();
    assertThat(small.requestClasses()).contains("sd3_flux");
    ModelManifest tiny = ModelManifest.read(TestModels.tiny());
    assertThat(small.vram().estimateMb(512, 512, 1)).isGreaterThan(tiny.vram().estimateMb(512, 512, 1));
  }

  @Test
  void theTwoModelsDrawDifferentImagesFromTheSameRequest() {
    GenerationInput in = new GenerationInput("a lighthouse at dusk", "", 256, 256, 3, 7, 7.5, 1);
    try (LoadedModel tiny = ModelStore.load(TestModels.tiny(), 1, 1);
        LoadedModel small = ModelStore.load(TestModels.small(), 1, 1)) {
      byte[] a = DiffusionPipeline.generate(tiny, in, StepListener.NONE, () -> false).get(0);
      byte[] b = DiffusionPipeline.generate(small, in, StepListener.NONE, () -> false).get(0);
      assertThat(b).isNotEqualTo(a);
    }
  }

  /**
   * Step cost without a clock: the multiply-adds per latent cell of every convolution in the
   * exported {@code denoise_step} graph, read from the kernels' shapes.
   */
  @Test
  void aSmallStepCostsSeveralTimesATinyOne() {
    long tiny = convMultiplyAddsPerCell(TestModels.tiny());
    long small = convMultiplyAddsPerCell(TestModels.small());
    assertThat(tiny).isPositive();
    assertThat(small).isGreaterThan(4 * tiny);
  }

  private static long convMultiplyAddsPerCell(Path dir) {
    try (SavedModelBundle bundle = SavedModelBundle.load(dir.toString(), ModelContract.SERVE_TAG)) {
      long total = 0;
      for (GraphOperation op : (Iterable<GraphOperation>) () -> bundle.graph().operations()) {
        if (op.type().equals("Conv2D") && op.name().startsWith("denoise/")) {
          Shape kernel = op.input(1).shape();
          total += kernel.size(); // kh * kw * in * out multiply-adds per output cell
        }
      }
      return total;
    }
  }
}
