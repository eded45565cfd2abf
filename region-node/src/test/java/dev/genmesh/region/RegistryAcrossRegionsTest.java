package dev.genmesh.region;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.registry.ManifestFile;
import dev.genmesh.registry.ModelRegistry;
import dev.genmesh.registry.Sha256;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models across regions with two real region nodes (inference-verticle/MODEL.md, "Across
 * regions"): us-west's registry is the primary, us-east's node pulls what it publishes, serves it
 * with the same SHA-256s, follows its CURRENT, and keeps serving (and stays ready) once us-west's
 * node is gone.
 */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class RegistryAcrossRegionsTest {
  private static final String EAST = "us-east";
  private static final String MODEL = "m";

  @TempDir Path dir;

  @Test
  void theSecondaryPullsFollowsAndKeepsServingWhenThePrimaryIsGone(Vertx vertx, TestStores stores) throws Exception {
    ModelRegistry primary = new ModelRegistry(dir.resolve("registry").resolve(TestRegion.REGION));
    primary.publish(bundle("1"), true);
    GenmeshConfig config = twoRegions(stores);
    NodeUnderTest west = await(NodeUnderTest.deploy(vertx, config));
    // us-east finds the primary at the port us-west got.
    Map<String, RegionConfig> regions = new HashMap<>(config.regions());
    regions.put(TestRegion.REGION, config.region(TestRegion.REGION).withApiUrl("http://127.0.0.1:" + west.port()));
    NodeUnderTest east = await(NodeUnderTest.deploy(vertx, config.withRegions(regions), EAST));

    Waits.eventually("us-east holds and runs m 1", () -> "1".equals(current(east)));
    assertServesWhatThePrimaryPublished(east, "1");

    primary.publish(bundle("2"), true);
    Waits.eventually("us-east follows the primary's CURRENT to 2", () -> "2".equals(current(east)));
    assertServesWhatThePrimaryPublished(east, "2");

    await(west.undeploy());
    Waits.eventually("us-east noticed the primary is gone",
        () -> east.counter("genmesh.registry.mirror.failures", "reason", "unreachable") >= 1);

    assertThat(await(east.get("/health/ready")).statusCode()).isEqualTo(200);
    JsonObject listing = await(east.get("/regional/v1/models")).bodyAsJsonObject();
    assertThat(listing.getJsonObject("mirror").getString("state")).isEqualTo("primary_unreachable");
    assertThat(current(east)).isEqualTo("2");
    assertServesWhatThePrimaryPublished(east, "1");
    assertServesWhatThePrimaryPublished(east, "2");
    assertThat(east.meters.get("genmesh.registry.mirror.versions").tag("region", EAST).gauge().value()).isEqualTo(2.0);
    await(east.undeploy());
  }

  private static String current(NodeUnderTest node) {
    JsonArray models = await(node.get("/regional/v1/models")).bodyAsJsonObject().getJsonArray("models");
    return models.isEmpty() ? null : models.getJsonObject(0).getString("current");
  }

  /** A worker's fetch: the manifest, then each file, checked against the primary's own SHA-256s. */
  private void assertServesWhatThePrimaryPublished(NodeUnderTest node, String version) throws Exception {
    Path published = dir.resolve("registry").resolve(TestRegion.REGION).resolve(MODEL).resolve(version);
    String base = "/regional/v1/models/" + MODEL + "/" + version;
    HttpResponse<Buffer> manifest = await(node.get(base + "/manifest.json"));
    assertThat(manifest.body().getBytes()).isEqualTo(Files.readAllBytes(published.resolve("manifest.json")));
    for (ManifestFile file : ManifestFile.listedIn(manifest.bodyAsJsonObject())) {
      HttpResponse<Buffer> body = await(node.get(base + "/files/" + file.path()));
      assertThat(body.statusCode()).isEqualTo(200);
      assertThat(Sha256.of(body.body().getBytes())).isEqualTo(Sha256.of(published.resolve(file.path())));
    }
  }

  /** A bundle of two random files and their manifest. */
  private Path bundle(String version) throws Exception {
    Path bundle = dir.resolve("bundle-" + version);
    Files.createDirectories(bundle.resolve("variables"));
    Random random = new Random(version.hashCode());
    for (String file : new String[] {"saved_model.pb", "variables/variables.index"}) {
      byte[] bytes = new byte[2048];
      random.nextBytes(bytes);
      Files.write(bundle.resolve(file), bytes);
    }
    JsonArray files = new JsonArray();
    ManifestFile.inventory(bundle).forEach(f -> files.add(f.toJson()));
    JsonObject manifest = new JsonObject().put("name", MODEL).put("version", version).put("files", files);
    Files.writeString(bundle.resolve("manifest.json"), manifest.encodePrettily(), StandardCharsets.UTF_8);
    return bundle;
  }

  /** us-west (the primary) and us-east on stores of their own, registries under the temp dir, a quick mirror. */
  private GenmeshConfig twoRegions(TestStores stores) {
    GenmeshConfig west = TestRegion.config(stores, stores.createDatabase(), TestStores.newKeyPrefix());
    return TestRegion.withSecondRegion(west, stores, EAST)
        .withRegistry(west.registry().withDir(dir.resolve("registry").toString()).withPrimary(TestRegion.REGION, 200));
  }
}
