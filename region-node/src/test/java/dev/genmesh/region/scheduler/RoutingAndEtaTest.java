package dev.genmesh.region.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Request classes and memory for the routing matrix; queue position and ETA arithmetic. */
class RoutingAndEtaTest {
  private final GenmeshConfig config = ConfigLoader.defaults();
  private final Routing routing = new Routing(config);

  private static GenerationSpec spec(int width, int height, int batch) {
    return new GenerationSpec("p", "", "genmesh-tiny", Tier.FAST, width, height, 10, 1, 7.5, batch);
  }

  private static GenerationSpec options(String model, int side, int batch, String adapter, String controlImage) {
    return new GenerationSpec("p", "", model, Tier.FAST, side, side, 10, 1, 7.5, batch, adapter, 1.0, controlImage, 1.0, 0);
  }

  @Test
  void requestClassComesFromSizeBatchAndModel() {
    assertThat(routing.requestClass(spec(512, 512, 1))).isEqualTo("sdxl");
    assertThat(routing.requestClass(spec(512, 512, 4))).isEqualTo("batch");
    assertThat(routing.requestClass(spec(1280, 512, 4))).isEqualTo("high_res");
    assertThat(routing.requestClass(new GenerationSpec("p", "", "unknown", Tier.FAST, 512, 512, 10, 1, 7.5, 1))).isNull();
  }

  @Test
  void adaptersAndControlImagesHaveTheirOwnClassesWhenTheModelDeclaresThem() {
    assertThat(routing.requestClass(options("genmesh-tiny", 512, 1, "watercolor", null))).isEqualTo("sdxl_lora");
    assertThat(routing.requestClass(options("genmesh-tiny", 512, 1, null, "iVBORw0KGgo="))).isEqualTo("sdxl_controlnet");
    assertThat(routing.requestClass(options("genmesh-tiny", 512, 1, "watercolor", "iVBORw0KGgo=")))
        .as("conditioning needs the scarcer GPUs, so it decides").isEqualTo("sdxl_controlnet");
    assertThat(routing.requestClass(options("genmesh-tiny", 512, 1, null, null))).isEqualTo("sdxl");
    assertThat(routing.requestClass(options("genmesh-tiny", 1280, 1, "watercolor", "iVBORw0KGgo="))).isEqualTo("high_res");
    assertThat(routing.requestClass(options("genmesh-tiny", 512, 2, "watercolor", null))).isEqualTo("batch");
    // genmesh-small declares neither class: its plain class, whatever the request adds.
    assertThat(routing.requestClass(options("genmesh-small", 512, 1, "watercolor", "iVBORw0KGgo="))).isEqualTo("sd3_flux");
  }

  @Test
  void gpuClassesServeWhatTheMatrixSaysAndUnknownClassesServeAll() {
    assertThat(routing.classesFor("L4")).hasValueSatisfying(c -> assertThat(c).contains("sdxl").doesNotContain("high_res", "batch"));
    assertThat(routing.classesFor("H100")).hasValueSatisfying(c -> assertThat(c).contains("high_res", "batch", "sd3_flux"));
    assertThat(routing.classesFor("cpu")).isEmpty();
  }

  @Test
  void vramEstimateGrowsWithPixelsAndBatch() {
    assertThat(routing.vramEstimateMb(spec(512, 512, 1))).isEqualTo(256 + 135);
    assertThat(routing.vramEstimateMb(spec(1024, 1024, 4))).isEqualTo(256 + 2148);
  }

  @Test
  void positionCountsHigherTiersAndTheRelaxShareBoundsRelax() {
    EtaEstimator eta = new EtaEstimator(0.10, () -> 2);
    Map<Tier, Long> depths = Map.of(Tier.TURBO, 200L, Tier.FAST, 30L, Tier.RELAX, 5L);
    assertThat(eta.position(Tier.TURBO, 3, depths)).isEqualTo(3);
    assertThat(eta.position(Tier.FAST, 3, depths)).isEqualTo(203);
    assertThat(eta.position(Tier.RELAX, 0, depths)).as("the 10th dispatch at the latest").isEqualTo(9);
    assertThat(eta.position(Tier.RELAX, 0, Map.of(Tier.TURBO, 1L, Tier.FAST, 0L, Tier.RELAX, 1L))).isEqualTo(1);
  }

  @Test
  void etaIsUnknownUntilAStepIsMeasuredThenSharesTheQueueAmongLiveWorkers() {
    EtaEstimator eta = new EtaEstimator(0.10, () -> 2);
    GenerationSpec spec = spec(512, 512, 1);
    assertThat(eta.etaMs(spec, 4, 0)).isEmpty();
    eta.observeStep("genmesh-tiny", 100);
    // 10 steps x 100 ms = 1 s each; 4 ahead over 2 workers = 2 s, plus its own 1 s.
    assertThat(eta.etaMs(spec, 4, 0)).hasValue(3000);
    assertThat(eta.etaMs(spec, 0, 1500)).as("a retry waits out its backoff first").hasValue(2500);
    eta.observeStep("genmesh-tiny", 200);
    assertThat(eta.runMs(spec)).hasValue(1200);
  }
}
