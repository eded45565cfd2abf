package dev.genmesh.inference.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.registry.ManifestFile;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelManifestTest {

  private static final ModelManifest MANIFEST = new ModelManifest(
      "m", "2", List.of("encode_text", "denoise_step", "decode"),
      new ModelManifest.Range(256, 1024, 64), new ModelManifest.Range(256, 768, 64),
      new ModelManifest.Range(1, 50, 1),
      List.of(new ManifestFile("saved_model.pb", "ab".repeat(32), 123)));

  @Test
  void jsonRoundTrip() {
    JsonObject json = MANIFEST.toJson();
    assertThat(json.getJsonObject("height").getInteger("max")).isEqualTo(768);
    assertThat(json.getJsonArray("files").getJsonObject(0).getString("sha256"))
        .isEqualTo("ab".repeat(32));
    assertThat(ModelManifest.fromJson(new JsonObject(json.encode()))).isEqualTo(MANIFEST);
  }

  @Test
  void newFieldsRoundTripAndAnOlderManifestReadsWithoutThem() {
    ManifestFile weights = new ManifestFile("adapters/w/1/weights.bin", "cd".repeat(32), 10);
    ModelManifest full = new ModelManifest("m", "2", List.of("encode_text", "denoise_step", "denoise_step_lora", "decode"),
        MANIFEST.width(), MANIFEST.height(), MANIFEST.steps(), List.of(weights),
        List.of(new ModelManifest.AdapterEntry("w", "1", 4, 4.0, List.of(weights))),
        List.of(new ModelManifest.ConditioningEntry("edges", "control", 1)), List.of("sdxl", "sdxl_lora"),
        new ModelManifest.VramEstimate(50, java.util.Map.of("512x512", 30L, "1024x1024", 120L)));
    assertThat(ModelManifest.fromJson(new JsonObject(full.toJson().encode()))).isEqualTo(full);

    JsonObject old = MANIFEST.toJson();
    for (String key : List.of("adapters", "conditioning", "request_classes", "vram_mb")) {
      old.remove(key);
    }
    ModelManifest read = ModelManifest.fromJson(old);
    assertThat(read).isEqualTo(MANIFEST);
    assertThat(read.adapters()).isEmpty();
    assertThat(read.vram().isKnown()).isFalse();
    assertThat(read.vram().estimateMb(512, 512, 4)).isZero();
  }

  @Test
  void vramEstimateTakesTheNextListedResolutionAndScalesBeyondTheLargest() {
    var vram = new ModelManifest.VramEstimate(50, java.util.Map.of("512x512", 30L, "1024x1024", 120L));
    assertThat(vram.estimateMb(512, 512, 1)).isEqualTo(80);
    assertThat(vram.estimateMb(256, 256, 2)).isEqualTo(50 + 2 * 30);
    assertThat(vram.estimateMb(768, 512, 1)).as("more pixels than 512x512").isEqualTo(50 + 120);
    assertThat(vram.estimateMb(2048, 1024, 1)).as("twice the largest").isEqualTo(50 + 240);
  }

  @Test
  void anAdapterIsFoundByNameOrByNameAndVersion() {
    ModelManifest.AdapterEntry one = new ModelManifest.AdapterEntry("w", "1", 4, 4.0, List.of());
    ModelManifest.AdapterEntry two = new ModelManifest.AdapterEntry("w", "2", 4, 4.0, List.of());
    ModelManifest m = new ModelManifest("m", "2", List.of(), MANIFEST.width(), MANIFEST.height(), MANIFEST.steps(),
        List.of(), List.of(one, two), List.of(), List.of(), null);
    assertThat(m.adapter("w")).contains(two);
    assertThat(m.adapter("w@1")).contains(one);
    assertThat(m.adapter("w@3")).isEmpty();
    assertThat(m.adapter("x")).isEmpty();
  }

  @Test
  void rangesAreInclusiveAndStepped() {
    ModelManifest.Range side = MANIFEST.width();
    assertThat(side.contains(256)).isTrue();
    assertThat(side.contains(1024)).isTrue();
    assertThat(side.contains(320)).isTrue();
    assertThat(side.contains(300)).isFalse();
    assertThat(side.contains(192)).isFalse();
    assertThat(side.contains(1088)).isFalse();
  }
}
