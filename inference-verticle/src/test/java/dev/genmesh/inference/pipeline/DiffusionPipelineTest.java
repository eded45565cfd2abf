package dev.genmesh.inference.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genmesh.inference.TestModels;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real TF runtime on the bundled tiny model. */
class DiffusionPipelineTest {

  private static LoadedModel model;
  private static DiffusionPipeline pipeline;

  @BeforeAll
  static void load() {
    model = ModelStore.load(TestModels.tiny(), 1, 1);
    pipeline = new DiffusionPipeline(model);
  }

  @AfterAll
  static void close() {
    if (model != null) {
      model.close();
    }
  }

  private static GenerationInput input(String prompt, long seed, int steps) {
    return new GenerationInput(prompt, "blurry", 512, 512, steps, seed, 7.5, 1);
  }

  private record Step(int step, int total, long nanosInTf, long nanosTotal) {}

  @Test
  void generatesA512PngAndReportsEveryStep() throws IOException {
    List<Step> steps = new ArrayList<>();
    List<byte[]> pngs = pipeline.generate(input("a red fox in the snow", 42, 4),
        (step, total, tf, all) -> steps.add(new Step(step, total, tf, all)), () -> false);

    assertThat(pngs).hasSize(1);
    BufferedImage image = decode(pngs.get(0));
    assertThat(image.getWidth()).isEqualTo(512);
    assertThat(image.getHeight()).isEqualTo(512);
    assertThat(steps).extracting(Step::step).containsExactly(1, 2, 3, 4);
    assertThat(steps).extracting(Step::total).containsOnly(4);
    assertThat(steps).allSatisfy(s -> {
      assertThat(s.nanosInTf()).isPositive();
      assertThat(s.nanosTotal()).isGreaterThanOrEqualTo(s.nanosInTf());
    });
    // A structured, colourful picture, not a flat fill.
    assertThat(distinctColours(image)).isGreaterThan(1000);
  }

  @Test
  void sameInputGivesSameBytes() {
    GenerationInput in = input("a lighthouse at dusk", 7, 4);
    byte[] first = pipeline.generate(in, StepListener.NONE, () -> false).get(0);
    byte[] second = pipeline.generate(in, StepListener.NONE, () -> false).get(0);
    assertThat(second).isEqualTo(first);
  }

  @Test
  void seedAndPromptChangeTheImage() {
    byte[] base = pipeline.generate(input("a lighthouse at dusk", 7, 4), StepListener.NONE,
        () -> false).get(0);
    byte[] otherSeed = pipeline.generate(input("a lighthouse at dusk", 8, 4), StepListener.NONE,
        () -> false).get(0);
    byte[] otherPrompt = pipeline.generate(input("a castle in the clouds", 7, 4),
        StepListener.NONE, () -> false).get(0);
    assertThat(otherSeed).isNotEqualTo(base);
    assertThat(otherPrompt).isNotEqualTo(base).isNotEqualTo(otherSeed);
  }

  @Test
  void cancellationStopsBetweenSteps() {
    List<Integer> seen = new ArrayList<>();
    assertThatThrownBy(() -> pipeline.generate(input("a slow painting", 1, 6),
            (step, total, tf, all) -> seen.add(step), () -> seen.size() >= 2))
        .isInstanceOfSatisfying(GenerationCancelledException.class,
            e -> assertThat(e.completedSteps()).isEqualTo(2));
    assertThat(seen).containsExactly(1, 2);
  }

  @Test
  void cancelSetInTheListenerOfStepKStopsAfterExactlyKSteps() {
    for (int k : new int[] {1, 3, 5}) {
      java.util.concurrent.atomic.AtomicBoolean cancel = new java.util.concurrent.atomic.AtomicBoolean();
      List<Integer> seen = new ArrayList<>();
      assertThatThrownBy(() -> pipeline.generate(input("a slow painting", 1, 6), (step, total, tf, all) -> {
            seen.add(step);
            if (step == k) {
              cancel.set(true); // as the worker's cancel consumer does, between two steps
            }
          }, cancel::get))
          .isInstanceOfSatisfying(GenerationCancelledException.class,
              e -> assertThat(e.completedSteps()).isEqualTo(k));
      assertThat(seen).as("steps run when cancelled at step %d", k).hasSize(k).endsWith(k);
    }
  }

  @Test
  void batchOfTwoGivesTwoDifferentImages() throws IOException {
    GenerationInput in = new GenerationInput("two cats", "", 256, 256, 3, 100, 7.5, 2);
    List<Integer> steps = new ArrayList<>();
    List<byte[]> pngs = pipeline.generate(in, (step, total, tf, all) -> steps.add(step),
        () -> false);
    assertThat(pngs).hasSize(2);
    for (byte[] png : pngs) {
      BufferedImage image = decode(png);
      assertThat(image.getWidth()).isEqualTo(256);
      assertThat(image.getHeight()).isEqualTo(256);
    }
    assertThat(pngs.get(1)).isNotEqualTo(pngs.get(0));
    assertThat(steps).containsExactly(1, 2, 3); // one step covers the whole batch
  }

  @Test
  void nonSquareSizesKeepWidthAndHeightApart() throws IOException {
    GenerationInput in = new GenerationInput("a wide valley", "", 384, 256, 2, 5, 5.0, 1);
    BufferedImage image = decode(pipeline.generate(in, StepListener.NONE, () -> false).get(0));
    assertThat(image.getWidth()).isEqualTo(384);
    assertThat(image.getHeight()).isEqualTo(256);
  }

  @Test
  void refusesWhatTheManifestDoesNotSupport() {
    assertThatThrownBy(() -> pipeline.generate(
            new GenerationInput("x", "", 500, 512, 4, 1, 7.5, 1), StepListener.NONE, () -> false))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("500x512");
    assertThatThrownBy(() -> pipeline.generate(
            new GenerationInput("x", "", 512, 512, 51, 1, 7.5, 1), StepListener.NONE, () -> false))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("steps 51");
  }

  private static BufferedImage decode(byte[] png) throws IOException {
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
    assertThat(image).as("a PNG ImageIO can read").isNotNull();
    return image;
  }

  private static int distinctColours(BufferedImage image) {
    Set<Integer> colours = new HashSet<>();
    for (int y = 0; y < image.getHeight(); y += 2) {
      for (int x = 0; x < image.getWidth(); x += 2) {
        colours.add(image.getRGB(x, y));
      }
    }
    return colours.size();
  }
}
