package dev.genmesh.inference.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genmesh.registry.ManifestFile;
import dev.genmesh.registry.Sha256;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Signature;
import org.tensorflow.proto.DataType;

class TinyModelBuilderTest {

  @TempDir Path dir;

  @Test
  void writesASavedModelAndAManifestThatDescribesIt() throws IOException {
    Path out = dir.resolve("tiny");
    ModelManifest manifest = TinyModelBuilder.build(out, "tiny", "3", 1L);

    assertThat(manifest.signatures())
        .containsExactly(
            ModelContract.ENCODE_TEXT, ModelContract.DENOISE_STEP, ModelContract.DENOISE_STEP_LORA,
            ModelContract.DENOISE_STEP_CONTROL, ModelContract.DENOISE_STEP_LORA_CONTROL,
            ModelContract.DECODE);
    assertThat(manifest.files()).extracting(ManifestFile::path).containsExactly(
        "adapters/watercolor/1/adapter.json", "adapters/watercolor/1/weights.bin",
        "saved_model.pb", "variables/variables.data-00000-of-00001", "variables/variables.index");
    assertThat(manifest.adapters()).singleElement().satisfies(a -> {
      assertThat(a.reference()).isEqualTo("watercolor@1");
      assertThat(a.rank()).isEqualTo(4);
      assertThat(a.files()).extracting(ManifestFile::path)
          .containsExactly("adapters/watercolor/1/adapter.json", "adapters/watercolor/1/weights.bin");
    });
    assertThat(manifest.conditioning()).extracting(ModelManifest.ConditioningEntry::name)
        .containsExactly("edges");
    assertThat(manifest.requestClasses()).contains("sdxl", "sdxl_lora", "sdxl_controlnet");
    assertThat(manifest.vram().perImageMb()).containsKeys("512x512", "1024x1024");
    assertThat(manifest.vram().estimateMb(1024, 1024, 1))
        .isGreaterThan(manifest.vram().estimateMb(512, 512, 1));
    for (ManifestFile file : manifest.files()) {
      Path p = out.resolve(file.path());
      assertThat(file.size()).isEqualTo(Files.size(p));
      assertThat(file.sha256()).isEqualTo(Sha256.of(p)).hasSize(64);
    }
    assertThat(manifest.width().contains(512)).isTrue();
    assertThat(manifest.width().contains(1088)).isFalse();
    assertThat(manifest.steps().contains(50)).isTrue();
    assertThat(ModelManifest.read(out)).isEqualTo(manifest);
  }

  @Test
  void exportsTheContractSignatures() throws IOException {
    Path out = dir.resolve("tiny");
    TinyModelBuilder.build(out, "tiny", "1", 1L);
    try (SavedModelBundle bundle = SavedModelBundle.load(out.toString(), ModelContract.SERVE_TAG)) {
      Map<String, Signature> byName = new HashMap<>();
      bundle.signatures().forEach(s -> byName.put(s.key(), s));
      assertThat(byName).containsOnlyKeys(
          ModelContract.ENCODE_TEXT, ModelContract.DENOISE_STEP, ModelContract.DENOISE_STEP_LORA,
          ModelContract.DENOISE_STEP_CONTROL, ModelContract.DENOISE_STEP_LORA_CONTROL,
          ModelContract.DECODE);

      Signature encode = byName.get(ModelContract.ENCODE_TEXT);
      assertTensor(encode.getInputs(), "tokens", DataType.DT_INT32, -1, 77);
      assertTensor(encode.getOutputs(), "embedding", DataType.DT_FLOAT, -1, 256);

      Signature denoise = byName.get(ModelContract.DENOISE_STEP);
      assertTensor(denoise.getInputs(), "latent", DataType.DT_FLOAT, -1, -1, -1, 4);
      assertTensor(denoise.getInputs(), "cond", DataType.DT_FLOAT, -1, 256);
      assertTensor(denoise.getInputs(), "uncond", DataType.DT_FLOAT, -1, 256);
      assertTensor(denoise.getInputs(), "sigma", DataType.DT_FLOAT);
      assertTensor(denoise.getInputs(), "sigma_next", DataType.DT_FLOAT);
      assertTensor(denoise.getInputs(), "guidance", DataType.DT_FLOAT);
      assertTensor(denoise.getOutputs(), "latent", DataType.DT_FLOAT, -1, -1, -1, 4);

      Signature lora = byName.get(ModelContract.DENOISE_STEP_LORA);
      assertThat(lora.inputNames()).containsExactlyInAnyOrder("latent", "cond", "uncond", "sigma",
          "sigma_next", "guidance", "lora_wave_a", "lora_wave_b", "lora_conv_a", "lora_conv_b",
          "adapter_scale");
      assertTensor(lora.getInputs(), "lora_wave_a", DataType.DT_FLOAT, 256, -1);
      assertTensor(lora.getInputs(), "lora_conv_b", DataType.DT_FLOAT, -1, 32);
      Signature control = byName.get(ModelContract.DENOISE_STEP_CONTROL);
      assertTensor(control.getInputs(), "control", DataType.DT_FLOAT, -1, -1, -1, 1);
      assertTensor(control.getInputs(), "control_scale", DataType.DT_FLOAT);
      assertThat(byName.get(ModelContract.DENOISE_STEP_LORA_CONTROL).inputNames())
          .containsAll(lora.inputNames()).contains("control", "control_scale");

      Signature decode = byName.get(ModelContract.DECODE);
      assertTensor(decode.getInputs(), "latent", DataType.DT_FLOAT, -1, -1, -1, 4);
      assertTensor(decode.getOutputs(), "image", DataType.DT_FLOAT, -1, -1, -1, 3);
    }
  }

  private static void assertTensor(Map<String, Signature.TensorDescription> tensors, String key,
      DataType type, long... dims) {
    assertThat(tensors).containsKey(key);
    assertThat(tensors.get(key).dataType).as(key).isEqualTo(type);
    // Shape.equals is false whenever a dimension is unknown, so compare the dimensions.
    assertThat(tensors.get(key).shape.asArray()).as(key).containsExactly(dims);
  }

  @Test
  void sameSeedGivesTheSameBytesAndAnotherSeedDoesNot() throws IOException {
    ModelManifest first = TinyModelBuilder.build(dir.resolve("a"), "tiny", "1", 5L);
    ModelManifest again = TinyModelBuilder.build(dir.resolve("b"), "tiny", "1", 5L);
    ModelManifest other = TinyModelBuilder.build(dir.resolve("c"), "tiny", "1", 6L);
    assertThat(again.files()).isEqualTo(first.files());
    assertThat(variables(other)).isNotEqualTo(variables(first));
  }

  private static String variables(ModelManifest m) {
    return m.files().stream().filter(f -> f.path().startsWith("variables/variables.data"))
        .findFirst().orElseThrow().sha256();
  }

  @Test
  void rebuildsInPlaceButRefusesADirectoryWithOtherFiles() throws IOException {
    Path out = dir.resolve("tiny");
    ModelManifest first = TinyModelBuilder.build(out, "tiny", "1", 5L);
    assertThat(TinyModelBuilder.build(out, "tiny", "1", 5L)).isEqualTo(first);

    Files.writeString(out.resolve("notes.txt"), "mine");
    assertThatThrownBy(() -> TinyModelBuilder.build(out, "tiny", "1", 5L))
        .isInstanceOf(IOException.class).hasMessageContaining("notes.txt");
    assertThat(out.resolve("notes.txt")).exists();
  }
}
