package dev.genmesh.inference.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genmesh.inference.TestModels;
import dev.genmesh.inference.pipeline.impl.NhwcArray;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The tiny model's LoRA adapter and edge-map conditioning on the real TF runtime: each changes
 * the image, each at scale 0 gives exactly the image without it, and what the model does not
 * declare is refused.
 */
class AdaptersAndConditioningTest {

  private static LoadedModel tiny;
  private static LoadedModel small;
  private static final GenerationInput BASE =
      new GenerationInput("a lighthouse at dusk", "blurry", 256, 256, 4, 7, 7.5, 1);

  @BeforeAll
  static void load() {
    tiny = ModelStore.load(TestModels.tiny(), 1, 1);
    small = ModelStore.load(TestModels.small(), 1, 1);
  }

  @AfterAll
  static void close() {
    tiny.close();
    small.close();
  }

  private static byte[] run(LoadedModel model, GenerationInput in) {
    return DiffusionPipeline.generate(model, in, StepListener.NONE, () -> false).get(0);
  }

  @Test
  void theAdapterChangesTheImageInProportionToItsScaleAndScaleZeroIsNoAdapter() {
    byte[] base = run(tiny, BASE);
    byte[] full = run(tiny, BASE.withAdapter("watercolor", 1.0));
    byte[] half = run(tiny, BASE.withAdapter("watercolor@1", 0.5));
    byte[] none = run(tiny, BASE.withAdapter("watercolor", 0.0));

    assertThat(full).isNotEqualTo(base);
    assertThat(half).isNotEqualTo(base).isNotEqualTo(full);
    assertThat(none).as("W + 0 * A·B is W exactly").isEqualTo(base);
    assertThat(Pixels.meanAbsDiff(half, base)).isLessThan(Pixels.meanAbsDiff(full, base));
    assertThat(tiny.loadedAdapters()).containsExactly("watercolor@1");
  }

  @Test
  void adaptersAreReadFromTheirVerifiedFilesAndCanBeDroppedFromMemory() {
    run(tiny, BASE.withAdapter("watercolor", 1.0));
    assertThat(tiny.unloadAdaptersExcept(java.util.Set.of())).containsExactly("watercolor@1");
    assertThat(tiny.loadedAdapters()).isEmpty();
    byte[] again = run(tiny, BASE.withAdapter("watercolor", 1.0)); // read again from disk
    assertThat(again).isEqualTo(run(tiny, BASE.withAdapter("watercolor@1", 1.0)));
  }

  @Test
  void anAdapterTheModelDoesNotDeclareIsRefused() {
    assertThatThrownBy(() -> run(tiny, BASE.withAdapter("oilpaint", 1.0)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("oilpaint");
    assertThatThrownBy(() -> run(tiny, BASE.withAdapter("watercolor@9", 1.0)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("watercolor@9");
    assertThatThrownBy(() -> run(small, BASE.withAdapter("watercolor", 1.0)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no adapter");
  }

  @Test
  void theControlImageShapesTheImageAndScaleZeroIsNoControl() {
    byte[] base = run(tiny, BASE);
    byte[] ringLeft = ControlImages.ring(256, 256, 0.35, 0.5);
    byte[] ringRight = ControlImages.ring(256, 256, 0.65, 0.5);
    byte[] left = run(tiny, BASE.withControl(ringLeft, 1.0));
    byte[] right = run(tiny, BASE.withControl(ringRight, 1.0));
    byte[] off = run(tiny, BASE.withControl(ringLeft, 0.0));

    assertThat(left).isNotEqualTo(base);
    assertThat(right).isNotEqualTo(left);
    assertThat(off).as("h + 0 * features is h exactly").isEqualTo(base);
    // The image follows the edges: its colour on the strokes stands out from the rest far more
    // than the plain image's colour does on the same pixels.
    assertThat(Pixels.contrast(left, ringLeft)).isGreaterThan(2 * Pixels.contrast(base, ringLeft));
    assertThat(Pixels.contrast(right, ringRight)).isGreaterThan(2 * Pixels.contrast(base, ringRight));
  }

  @Test
  void adapterAndControlTogetherUseTheCombinedSignature() {
    byte[] ring = ControlImages.ring(256, 256, 0.5, 0.5);
    byte[] both = run(tiny, BASE.withAdapter("watercolor", 1.0).withControl(ring, 1.0));
    assertThat(both).isNotEqualTo(run(tiny, BASE.withControl(ring, 1.0)))
        .isNotEqualTo(run(tiny, BASE.withAdapter("watercolor", 1.0)));
    assertThat(run(tiny, BASE.withAdapter("watercolor", 0.0).withControl(ring, 0.0))).isEqualTo(run(tiny, BASE));
  }

  @Test
  void aControlImageOfTheWrongSizeOrNotAnImageIsRefused() {
    assertThatThrownBy(() -> run(tiny, BASE.withControl(ControlImages.ring(320, 256, 0.5, 0.5), 1.0)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("320x256");
    assertThatThrownBy(() -> run(tiny, BASE.withControl(new byte[] {1, 2, 3}, 1.0)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PNG");
    assertThatThrownBy(() -> run(small, BASE.withControl(ControlImages.ring(256, 256, 0.5, 0.5), 1.0)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no conditioning");
  }

  @Test
  void controlGridIsTheBlockMeanOfTheGrayLevels() {
    NhwcArray grid = ControlImage.toLatentGrid(ControlImages.ring(256, 128, 0.5, 0.5), 256, 128);
    assertThat(List.of(grid.batch(), grid.height(), grid.width(), grid.channels())).containsExactly(1, 16, 32, 1);
    float max = 0;
    float min = 1;
    for (float v : grid.data()) {
      max = Math.max(max, v);
      min = Math.min(min, v);
    }
    assertThat(min).isEqualTo(0f); // black background, read without a gamma shift
    assertThat(max).isGreaterThan(0.5f).isLessThanOrEqualTo(1f);
  }
}
