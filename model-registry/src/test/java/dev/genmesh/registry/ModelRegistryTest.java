package dev.genmesh.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRegistryTest {
  @TempDir Path dir;
  private final AtomicLong seconds = new AtomicLong(1_800_000_000L);
  private final Clock clock = new Clock() {
    @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
    @Override public Clock withZone(java.time.ZoneId zone) { return this; }
    @Override public Instant instant() { return Instant.ofEpochSecond(seconds.getAndAdd(60)); }
  };

  private ModelRegistry registry() {
    return new ModelRegistry(dir.resolve("registry"), clock);
  }

  @Test
  void firstPublishBecomesCurrentAndLaterOnesOnlyWhenAsked() throws Exception {
    ModelRegistry registry = registry();
    PublishedVersion first = registry.publish(Bundles.write(dir.resolve("b1"), "m", "1.0.0"), false);
    registry.publish(Bundles.write(dir.resolve("b2"), "m", "1.1.0"), false);

    assertThat(registry.current("m")).contains("1.0.0");
    assertThat(first.createdAt()).isNotNull();
    assertThat(first.previousVersion()).isNull();
    PublishedVersion second = registry.version("m", "1.1.0").orElseThrow();
    assertThat(second.previousVersion()).isEqualTo("1.0.0");
    assertThat(registry.versions("m")).extracting(PublishedVersion::version).containsExactly("1.0.0", "1.1.0");
    assertThat(Files.readString(dir.resolve("registry/m/CURRENT"), StandardCharsets.UTF_8)).isEqualTo("1.0.0\n");

    registry.publish(Bundles.write(dir.resolve("b3"), "m", "2.0.0"), true);
    assertThat(registry.current("m")).contains("2.0.0");
    assertThat(registry.version("m", "2.0.0").orElseThrow().previousVersion()).isEqualTo("1.0.0");
  }

  @Test
  void publishRefusesToOverwriteAPublishedVersion() throws Exception {
    ModelRegistry registry = registry();
    registry.publish(Bundles.write(dir.resolve("b1"), "m", "1"), false);
    Path original = dir.resolve("registry/m/1/saved_model.pb");
    byte[] before = Files.readAllBytes(original);
    Path other = Bundles.write(dir.resolve("other"), "m", "1");
    Files.write(other.resolve("saved_model.pb"), new byte[] {1, 2, 3});
    rewriteEntry(other, "saved_model.pb", new byte[] {1, 2, 3});

    assertThatThrownBy(() -> registry.publish(other, true))
        .isInstanceOf(RegistryException.class).hasMessageContaining("already published").hasMessageContaining("immutable");
    assertThat(Files.readAllBytes(original)).isEqualTo(before);
  }

  @Test
  void publishRefusesABundleWhoseFilesDoNotMatchTheManifest() throws Exception {
    ModelRegistry registry = registry();
    Path bundle = Bundles.write(dir.resolve("b1"), "m", "1");
    byte[] bytes = Files.readAllBytes(bundle.resolve("variables/variables.index"));
    bytes[0] ^= 1;
    Files.write(bundle.resolve("variables/variables.index"), bytes);

    assertThatThrownBy(() -> registry.publish(bundle, true))
        .isInstanceOf(RegistryException.class).hasMessageContaining("variables/variables.index does not match its SHA-256");
    assertThat(registry.names()).isEmpty();
    assertThat(dir.resolve("registry/m/1")).doesNotExist();
  }

  @Test
  void publishRefusesUnsafeNamesAndPaths() throws Exception {
    ModelRegistry registry = registry();
    Path bundle = Bundles.write(dir.resolve("b1"), "m", "1");
    JsonObject manifest = new JsonObject(Files.readString(bundle.resolve("manifest.json")));
    manifest.getJsonArray("files").getJsonObject(0).put("path", "../../escape");
    manifest.put("version", "../1");
    Files.writeString(bundle.resolve("manifest.json"), manifest.encode());

    assertThatThrownBy(() -> registry.publish(bundle, true))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("version must be")
        .hasMessageContaining("../../escape is not a relative path inside the model");
  }

  @Test
  void rollbackMovesCurrentToThePreviousVersionOrTheOneNamed() throws Exception {
    ModelRegistry registry = registry();
    registry.publish(Bundles.write(dir.resolve("b1"), "m", "1"), true);
    registry.publish(Bundles.write(dir.resolve("b2"), "m", "2"), true);
    registry.publish(Bundles.write(dir.resolve("b3"), "m", "3"), true);

    assertThat(registry.rollback("m", null)).isEqualTo("2");
    assertThat(registry.current("m")).contains("2");
    assertThat(registry.rollback("m", null)).isEqualTo("1");
    assertThatThrownBy(() -> registry.rollback("m", null)).hasMessageContaining("no version before 1");
    assertThat(registry.rollback("m", "3")).isEqualTo("3");
    assertThatThrownBy(() -> registry.rollback("m", "9")).hasMessageContaining("9 is not published");
    assertThat(registry.current("m")).contains("3");
  }

  @Test
  void listingShowsVersionsCurrentAndManifestSummaries() throws Exception {
    ModelRegistry registry = registry();
    registry.publish(Bundles.write(dir.resolve("b1"), "m", "1"), true);
    registry.publish(Bundles.write(dir.resolve("b2"), "n", "7"), true);

    JsonObject listing = registry.listing();

    assertThat(listing.getJsonArray("models")).hasSize(2);
    JsonObject m = listing.getJsonArray("models").getJsonObject(0);
    assertThat(m.getString("name")).isEqualTo("m");
    assertThat(m.getString("current")).isEqualTo("1");
    JsonObject version = m.getJsonArray("versions").getJsonObject(0);
    assertThat(version.getInteger("file_count")).isEqualTo(3);
    assertThat(version.getJsonObject("manifest").containsKey("files")).isFalse();
    assertThat(version.getJsonObject("manifest").getJsonArray("request_classes").getList()).containsExactly("sdxl");
  }

  private static void rewriteEntry(Path bundle, String path, byte[] bytes) throws Exception {
    JsonObject manifest = new JsonObject(Files.readString(bundle.resolve("manifest.json")));
    manifest.getJsonArray("files").forEach(e -> {
      JsonObject entry = (JsonObject) e;
      if (entry.getString("path").equals(path)) {
        entry.put("sha256", Sha256.of(bytes)).put("size", bytes.length);
      }
    });
    Files.writeString(bundle.resolve("manifest.json"), manifest.encode());
  }
}
