package dev.genmesh.registry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.testkit.Waits;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry routes on a real HTTP server over a registry folder. */
class RegistryRoutesTest {
  @TempDir Path dir;
  private Vertx vertx;
  private HttpServer server;
  private WebClient http;
  private ModelRegistry registry;

  @BeforeEach
  void serve() throws Exception {
    registry = new ModelRegistry(dir.resolve("registry"));
    registry.publish(Bundles.write(dir.resolve("b1"), "m", "1.0.0"), true);
    vertx = Vertx.vertx();
    server = Waits.await(30, vertx.createHttpServer().requestHandler(RegistryRoutes.router(vertx, registry, null)).listen(0, "127.0.0.1"));
    http = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(server.actualPort()));
  }

  @AfterEach
  void close() throws Exception {
    Waits.await(30, vertx.close());
  }

  @Test
  void listsModelsWithCurrentVersion() throws Exception {
    HttpResponse<Buffer> listing = get("/regional/v1/models");

    assertThat(listing.statusCode()).isEqualTo(200);
    JsonObject model = listing.bodyAsJsonObject().getJsonArray("models").getJsonObject(0);
    assertThat(model.getString("name")).isEqualTo("m");
    assertThat(model.getString("current")).isEqualTo("1.0.0");
    assertThat(model.getJsonArray("versions").getJsonObject(0).getString("version")).isEqualTo("1.0.0");
  }

  @Test
  void servesManifestAndFilesWithTheirChecksumAsETag() throws Exception {
    HttpResponse<Buffer> manifest = get("/regional/v1/models/m/1.0.0/manifest.json");
    assertThat(manifest.statusCode()).isEqualTo(200);
    JsonObject entry = manifest.bodyAsJsonObject().getJsonArray("files").getJsonObject(1);
    String path = entry.getString("path");

    HttpResponse<Buffer> file = get("/regional/v1/models/m/1.0.0/files/" + path);

    assertThat(file.statusCode()).isEqualTo(200);
    assertThat(file.getHeader("ETag")).isEqualTo("\"" + entry.getString("sha256") + "\"");
    assertThat(file.body().getBytes()).isEqualTo(Files.readAllBytes(dir.resolve("b1").resolve(path)));
    HttpResponse<Buffer> again = Waits.await(30, http.get("/regional/v1/models/m/1.0.0/files/" + path)
        .putHeader("If-None-Match", file.getHeader("ETag")).send());
    assertThat(again.statusCode()).isEqualTo(304);
  }

  @Test
  void refusesPathsOutOfTheModelAndFilesTheManifestDoesNotList() throws Exception {
    Files.writeString(dir.resolve("registry/m/1.0.0/unlisted.txt"), "secret");
    Files.writeString(dir.resolve("secret.txt"), "secret");

    assertThat(get("/regional/v1/models/m/1.0.0/files/..%2F..%2F..%2Fsecret.txt").statusCode()).isEqualTo(400);
    assertThat(get("/regional/v1/models/m/1.0.0/files/variables%2F..%2F..%2F..%2Fsecret.txt").statusCode()).isEqualTo(400);
    assertThat(get("/regional/v1/models/m/1.0.0/files/../../../secret.txt").statusCode()).isIn(400, 404);
    assertThat(get("/regional/v1/models/m/1.0.0/files/unlisted.txt").statusCode()).isEqualTo(404);
    assertThat(get("/regional/v1/models/m/1.0.0/files/manifest.json").statusCode()).isEqualTo(400);
    assertThat(get("/regional/v1/models/m/9/manifest.json").statusCode()).isEqualTo(404);
    assertThat(get("/regional/v1/models/..%2Fm/1.0.0/manifest.json").statusCode()).isEqualTo(404);
  }

  private HttpResponse<Buffer> get(String path) throws Exception {
    return Waits.await(30, http.get(path).send());
  }
}
