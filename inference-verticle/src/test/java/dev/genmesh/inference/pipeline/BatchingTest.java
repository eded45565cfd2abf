package dev.genmesh.inference.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genmesh.inference.TestModels;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Several requests in one TensorFlow batch give, bit for bit, the images each gives alone, with
 * their own step reports, previews and cancellation.
 */
class BatchingTest {

  private static LoadedModel model;
  private static DiffusionPipeline pipeline;

  @BeforeAll
  static void load() {
    model = ModelStore.load(TestModels.tiny(), 1, 1);
    pipeline = new DiffusionPipeline(model);
  }

  @AfterAll
  static void close() {
    model.close();
  }

  private static GenerationInput in(String prompt, String negative, long seed, int images) {
    return new GenerationInput(prompt, negative, 256, 256, 5, seed, 7.5, images);
  }

  private static DiffusionPipeline.BatchItem item(GenerationInput in) {
    return new DiffusionPipeline.BatchItem(in, StepListener.NONE, () -> false);
  }

  private static List<byte[]> alone(GenerationInput in) {
    return pipeline.generate(in, StepListener.NONE, () -> false);
  }

  @Test
  void batchedRequestsGiveExactlyTheirSingleImages() {
    List<GenerationInput> inputs = List.of(
        in("a red fox", "", 11, 1),
        in("an owl at night", "dark", 40, 2),
        in("a castle", "", 99, 1));
    List<DiffusionPipeline.Outcome> batched =
        pipeline.generateBatch(inputs.stream().map(BatchingTest::item).toList());

    assertThat(batched).hasSize(3).noneMatch(DiffusionPipeline.Outcome::cancelled);
    for (int i = 0; i < inputs.size(); i++) {
      List<byte[]> single = alone(inputs.get(i));
      assertThat(batched.get(i).pngs()).as("request %d", i).hasSameSizeAs(single);
      for (int j = 0; j < single.size(); j++) {
        assertThat(batched.get(i).pngs().get(j)).as("request %d image %d", i, j).isEqualTo(single.get(j));
      }
    }
  }

  @Test
  void batchedWithAdapterAndPerRequestControlImagesToo() {
    GenerationInput a = in("a harbour", "", 3, 1).withAdapter("watercolor", 0.8)
        .withControl(ControlImages.ring(256, 256, 0.3, 0.4), 1.0);
    GenerationInput b = in("a forest", "fog", 4, 1).withAdapter("watercolor", 0.8)
        .withControl(ControlImages.ring(256, 256, 0.7, 0.6), 1.0);
    List<DiffusionPipeline.Outcome> batched = pipeline.generateBatch(List.of(item(a), item(b)));
    assertThat(batched.get(0).pngs().get(0)).isEqualTo(alone(a).get(0));
    assertThat(batched.get(1).pngs().get(0)).isEqualTo(alone(b).get(0));
  }

  @Test
  void anInputTheModelCannotTakeIsRefusedAloneAndTheRestOfTheBatchRuns() {
    GenerationInput good = in("a harbour", "", 3, 1).withControl(ControlImages.ring(256, 256, 0.3, 0.4), 1.0);
    GenerationInput broken = in("a forest", "", 4, 1).withControl(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, 1.0);
    List<DiffusionPipeline.Outcome> out = pipeline.generateBatch(List.of(item(broken), item(good)));
    assertThat(out.get(0).refused()).isTrue();
    assertThat(out.get(0).refusal()).hasMessageContaining("PNG");
    assertThat(out.get(1).pngs()).singleElement().isEqualTo(alone(good).get(0));
  }

  @Test
  void eachRequestGetsItsOwnStepsAndACancelledOneLeavesTheBatchAfterItsStep() {
    List<Integer> stepsOfA = new CopyOnWriteArrayList<>();
    List<Integer> stepsOfB = new CopyOnWriteArrayList<>();
    AtomicBoolean cancelA = new AtomicBoolean();
    GenerationInput a = in("a slow painting", "", 1, 1);
    GenerationInput b = in("a quick sketch", "", 2, 2);
    List<DiffusionPipeline.Outcome> out = pipeline.generateBatch(List.of(
        new DiffusionPipeline.BatchItem(a, (step, total, tf, all) -> {
          stepsOfA.add(step);
          if (step == 2) {
            cancelA.set(true);
          }
        }, cancelA::get),
        new DiffusionPipeline.BatchItem(b, (step, total, tf, all) -> stepsOfB.add(step), () -> false)));

    assertThat(out.get(0).cancelled()).isTrue();
    assertThat(out.get(0).cancellation().completedSteps()).isEqualTo(2);
    assertThat(stepsOfA).containsExactly(1, 2);
    assertThat(stepsOfB).containsExactly(1, 2, 3, 4, 5);
    List<byte[]> single = alone(b);
    assertThat(out.get(1).pngs().get(0)).as("the rest of the batch is unaffected").isEqualTo(single.get(0));
    assertThat(out.get(1).pngs().get(1)).isEqualTo(single.get(1));
  }

  @Test
  void previewsComeEveryKStepsAsSmallPngs() {
    List<Integer> previewSteps = new ArrayList<>();
    List<byte[]> previews = new ArrayList<>();
    StepListener listener = new StepListener() {
      @Override
      public void onStep(int step, int total, long tf, long all) {}

      @Override
      public void onStep(int step, int total, long tf, long all, byte[] preview) {
        if (preview != null) {
          previewSteps.add(step);
          previews.add(preview);
        }
      }
    };
    GenerationInput wide = new GenerationInput("a wide valley", "", 512, 256, 5, 5, 5.0, 1).withPreviewEvery(2);
    byte[] image = pipeline.generate(wide, listener, () -> false).get(0);
    assertThat(previewSteps).containsExactly(2, 4);
    var first = Pixels.read(previews.get(0));
    assertThat(first.getWidth()).isEqualTo(64);
    assertThat(first.getHeight()).isEqualTo(32);
    assertThat(image).as("previews do not change the result")
        .isEqualTo(pipeline.generate(wide.withPreviewEvery(0), StepListener.NONE, () -> false).get(0));
  }

  @Test
  void incompatibleInputsAreNotBatched() {
    assertThatThrownBy(() -> pipeline.generateBatch(List.of(item(in("a", "", 1, 1)),
        item(new GenerationInput("b", "", 256, 256, 6, 2, 7.5, 1)))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot share a batch");
  }

  @Test
  void theFaultHookSeesEveryStepWithItsBatchSize() {
    List<String> calls = new ArrayList<>();
    new DiffusionPipeline(model, (name, step, images) -> calls.add(name + ":" + step + ":" + images))
        .generateBatch(List.of(item(in("a", "", 1, 2)), item(in("b", "", 2, 1))));
    assertThat(calls).containsExactly("genmesh-tiny:1:3", "genmesh-tiny:2:3", "genmesh-tiny:3:3", "genmesh-tiny:4:3",
        "genmesh-tiny:5:3");
  }
}
