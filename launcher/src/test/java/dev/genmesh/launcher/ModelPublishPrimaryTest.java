package dev.genmesh.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.registry.ManifestFile;
import dev.genmesh.registry.ModelRegistry;
import dev.genmesh.registry.RegistryRoutes;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code genmesh model publish|rollback} with a primary registry (us-west by default): the primary,
 * served over real HTTP by the registry routes, takes the change; another region, or the primary
 * while it does not answer, refuses it (exit 2) and says where to go instead.
 */
class ModelPublishPrimaryTest {
  @TempDir Path dir;
  private Vertx vertx;
  private Path dataDir;
  private Path bundle;

  @BeforeEach
  void prepare() throws Exception {
    vertx = Vertx.vertx();
    dataDir = dir.resolve("data");
    bundle = dir.resolve("bundle");
    Files.createDirectories(bundle);
    Files.writeString(bundle.resolve("saved_model.pb"), "weights", StandardCharsets.UTF_8);
    JsonArray files = new JsonArray();
    ManifestFile.inventory(bundle).forEach(f -> files.add(f.toJson()));
    Files.writeString(bundle.resolve("manifest.json"),
        new JsonObject().put("name", "m").put("version", "1").put("files", files).encodePrettily(), StandardCharsets.UTF_8);
  }

  @AfterEach
  void close() throws Exception {
    Waits.await(vertx.close());
  }

  @Test
  void thePrimaryTakesThePublishWhileItAnswers() throws Exception {
    Path primaryDir = dataDir.resolve("registry/us-west");
    HttpServer primary = Waits.await(vertx.createHttpServer()
        .requestHandler(RegistryRoutes.router(vertx, new ModelRegistry(primaryDir), null)).listen(0, "127.0.0.1"));
    Path config = configWithPrimaryAt(primary.actualPort());

    CliRun published = CliRun.of("model", "publish", "--config", config.toString(), "--data-dir", dataDir.toString(),
        "--from", bundle.toString());

    assertThat(published.exit()).as(published.err()).isZero();
    assertThat(published.out()).contains("published m 1");
    assertThat(new ModelRegistry(primaryDir).current("m")).contains("1");
  }

  @Test
  void anotherRegionRefusesAndNamesThePrimaryAndHowToPromoteOne() throws Exception {
    CliRun byRegion = CliRun.of("model", "publish", "--data-dir", dataDir.toString(), "--region", "us-east", "--from", bundle.toString());
    CliRun byFolder = CliRun.of("model", "publish", "--data-dir", dataDir.toString(), "--registry",
        dataDir.resolve("registry/eu-west").toString(), "--from", bundle.toString());
    CliRun rollback = CliRun.of("model", "rollback", "--data-dir", dataDir.toString(), "--region", "us-east", "--name", "m");

    assertThat(byRegion.exit()).isEqualTo(2);
    assertThat(byRegion.err()).contains("us-east does not take publishes").contains("primary registry, us-west")
        .contains("http://127.0.0.1:8181").contains("genmesh model publish --region us-west --from " + bundle)
        .contains("registry.primary").contains("GENMESH_REGISTRY__PRIMARY=us-east");
    assertThat(byFolder.exit()).isEqualTo(2);
    assertThat(byFolder.err()).contains("eu-west does not take publishes");
    assertThat(rollback.exit()).isEqualTo(2);
    assertThat(rollback.err()).contains("genmesh model rollback --region us-west --name m");
    assertThat(dataDir.resolve("registry/us-east")).doesNotExist();
    assertThat(dataDir.resolve("registry/eu-west")).doesNotExist();
  }

  @Test
  void thePrimaryGoneRefusesAndSaysTheRegionsKeepServing() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    Path config = configWithPrimaryAt(closedPort);

    CliRun refused = CliRun.of("model", "publish", "--config", config.toString(), "--data-dir", dataDir.toString(),
        "--region", "us-west", "--from", bundle.toString());

    assertThat(refused.exit()).isEqualTo(2);
    assertThat(refused.err()).contains("the primary registry us-west (http://127.0.0.1:" + closedPort + ") does not answer")
        .contains("keep serving the versions they hold").contains("registry.primary");
    assertThat(new ModelRegistry(dataDir.resolve("registry/us-west")).names()).isEmpty();
  }

  /** A config file putting us-west's regional API (the primary registry) on {@code port}. */
  private Path configWithPrimaryAt(int port) throws Exception {
    Path config = dir.resolve("genmesh.yaml");
    Files.writeString(config, "regions:\n  us-west:\n    api_url: \"http://127.0.0.1:" + port + "\"\n", StandardCharsets.UTF_8);
    return config;
  }
}
