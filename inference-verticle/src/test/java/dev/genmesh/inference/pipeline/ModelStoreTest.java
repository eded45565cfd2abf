package dev.genmesh.inference.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genmesh.inference.model.ModelContract;
import dev.genmesh.inference.model.TinyModelBuilder;
import dev.genmesh.inference.pipeline.impl.Tokenizer;
import dev.genmesh.registry.BundleCheck;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Verification before loading: a damaged model is refused with the file named. */
class ModelStoreTest {

  private static final String VARIABLES_DATA = "variables/variables.data-00000-of-00001";

  @TempDir static Path built;
  @TempDir Path copy;

  @BeforeAll
  static void build() throws IOException {
    TinyModelBuilder.build(built, "tiny-test", "1", TinyModelBuilder.DEFAULT_WEIGHT_SEED);
  }

  @Test
  void loadsAnIntactModelWithTheContractSignatures() {
    try (LoadedModel model = ModelStore.load(built, 1, 1)) {
      assertThat(model.manifest().name()).isEqualTo("tiny-test");
      float[][] embeddings = model.encodeText(new int[][] {
          new Tokenizer().encode("a red fox"), new Tokenizer().encode("")});
      assertThat(embeddings[0]).hasSize(ModelContract.EMBEDDING_DIM);
      assertThat(embeddings[1]).containsOnly(0f); // the empty prompt is the zero embedding
      assertThat(embeddings[0]).isNotEqualTo(embeddings[1]);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {VARIABLES_DATA, "saved_model.pb", "variables/variables.index"})
  void flippedByteIsCaughtAndNamed(String file) throws IOException {
    copyModel();
    Path target = copy.resolve(file);
    byte[] bytes = Files.readAllBytes(target);
    bytes[bytes.length / 2] ^= 0x01;
    Files.write(target, bytes);

    assertThatThrownBy(() -> ModelStore.load(copy, 1, 1))
        .isInstanceOfSatisfying(ModelCorruptedException.class,
            e -> assertThat(e.file()).isEqualTo(file))
        .hasMessageContaining(file)
        .hasMessageContaining("SHA-256");
  }

  @Test
  void missingFileIsCaughtAndNamed() throws IOException {
    copyModel();
    Files.delete(copy.resolve(VARIABLES_DATA));
    assertThatThrownBy(() -> ModelStore.load(copy, 1, 1))
        .isInstanceOfSatisfying(ModelCorruptedException.class,
            e -> assertThat(e.file()).isEqualTo(VARIABLES_DATA))
        .hasMessageContaining("missing");
  }

  @Test
  void missingManifestIsCaught() throws IOException {
    copyModel();
    Files.delete(copy.resolve(BundleCheck.MANIFEST));
    assertThatThrownBy(() -> ModelStore.load(copy, 1, 1))
        .isInstanceOfSatisfying(ModelCorruptedException.class,
            e -> assertThat(e.file()).isEqualTo(BundleCheck.MANIFEST));
  }

  @Test
  void manifestCannotPointOutsideTheModel() throws IOException {
    copyModel();
    Path manifestFile = copy.resolve(BundleCheck.MANIFEST);
    Files.writeString(manifestFile,
        Files.readString(manifestFile).replace("\"saved_model.pb\"", "\"../saved_model.pb\""));
    assertThatThrownBy(() -> ModelStore.verify(copy))
        .isInstanceOfSatisfying(ModelCorruptedException.class,
            e -> assertThat(e.file()).isEqualTo("../saved_model.pb"));
  }

  private void copyModel() throws IOException {
    try (Stream<Path> walk = Files.walk(built)) {
      for (Path source : (Iterable<Path>) walk::iterator) {
        Path target = copy.resolve(built.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target);
        }
      }
    }
  }
}
