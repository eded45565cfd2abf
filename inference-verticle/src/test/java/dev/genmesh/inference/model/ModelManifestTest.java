package dev.genmesh.inference.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelManifestTest {

  private static final ModelManifest MANIFEST = new ModelManifest(
      "m", "2", List.of("encode_text", "denoise_step", "decode"),
      new ModelManifest.Range(256, 1024, 64), new ModelManifest.Range(256, 768, 64),
      new ModelManifest.Range(1, 50, 1),
      List.of(new ModelManifest.FileEntry("saved_model.pb", "ab".repeat(32), 123)));

  @Test
  void jsonRoundTrip() {
    JsonObject json = MANIFEST.toJson();
    assertThat(json.getJsonObject("height").getInteger("max")).isEqualTo(768);
    assertThat(json.getJsonArray("files").getJsonObject(0).getString("sha256"))
        .isEqualTo("ab".repeat(32));
    assertThat(ModelManifest.fromJson(new JsonObject(json.encode()))).isEqualTo(MANIFEST);
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
