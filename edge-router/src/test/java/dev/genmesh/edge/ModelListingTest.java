package dev.genmesh.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.EdgeConfig;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.testkit.Waits;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /v1/models} and {@code model@version} against fake regions whose registries answer
 * in the format of region-node/API.md (the launcher's registry test runs it against the real one).
 */
@ExtendWith(VertxExtension.class)
class ModelListingTest {
  @TempDir Path dir;
  private Vertx vertx;
  private FakeRegion usWest;
  private FakeRegion usEast;
  private FakeRegion euWest;
  private WebClient http;
  private int port;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    usWest = Waits.await(10, new FakeRegion(vertx, "us-west", "usw").start());
    usEast = Waits.await(10, new FakeRegion(vertx, "us-east", "use").start());
    euWest = Waits.await(10, new FakeRegion(vertx, "eu-west", "euw").start());
    http = WebClient.create(vertx);
    Path file = dir.resolve("two-models.yaml");
    Files.writeString(file, """
        registry: {catalog_cache_ms: 0}
        models:
          genmesh-small:
            version: "2.0.0"
            path: ""
            min_size: 256
            max_size: 512
            size_multiple: 64
            default_width: 256
            default_height: 256
            min_steps: 1
            max_steps: 30
            default_steps: 10
            max_batch: 2
            min_guidance: 0.0
            max_guidance: 10.0
            default_guidance: 5.0
            request_classes: [sdxl]
        """);
    GenmeshConfig config = ConfigLoader.load(file, Map.of());
    Map<String, RegionConfig> regions = new LinkedHashMap<>();
    for (FakeRegion fake : List.of(usWest, usEast, euWest)) {
      regions.put(fake.name, config.region(fake.name).withApiUrl(fake.url()));
    }
    EdgeConfig edge = config.edge();
    EdgeConfig testEdge = new EdgeConfig("127.0.0.1", 0, edge.maxBodyBytes(), edge.maxPromptChars(), 3_600_000L, 5_000,
        edge.latencyMs());
    EdgeVerticle verticle = new EdgeVerticle(config.withEdge(testEdge).withRegions(regions),
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    Waits.await(10, vertx.deployVerticle(verticle));
    port = verticle.actualPort();
  }

  @Test
  void listsBothModelsWithVersionsAndCapabilitiesMergedFromTheRegions() throws Exception {
    usWest.models = listing(model("genmesh-tiny", "1.0.0", "1.0.0", "1.1.0"), model("genmesh-small", "2.0.0", "2.0.0"));
    usEast.models = listing(model("genmesh-tiny", "1.1.0", "1.0.0", "1.1.0"));

    HttpResponse<Buffer> response = Waits.await(10, http.get(port, "127.0.0.1", "/v1/models").send());

    assertThat(response.statusCode()).isEqualTo(200);
    JsonObject body = response.bodyAsJsonObject();
    assertThat(body.getString("source")).isEqualTo("registry");
    assertThat(body.getJsonArray("regions").getList()).containsExactlyInAnyOrder("us-west", "us-east");
    JsonArray models = body.getJsonArray("models");
    assertThat(models).hasSize(2);
    JsonObject tiny = byName(models, "genmesh-tiny");
    assertThat(tiny.getJsonArray("versions").getList()).containsExactly("1.0.0", "1.1.0");
    assertThat(tiny.getJsonObject("regions").getJsonObject("us-west").getString("current")).isEqualTo("1.0.0");
    assertThat(tiny.getJsonObject("regions").getJsonObject("us-east").getString("current")).isEqualTo("1.1.0");
    assertThat(tiny.getString("current_version")).isIn("1.0.0", "1.1.0");
    assertThat(tiny.getJsonArray("request_classes").getList()).containsExactly("sdxl", "sdxl_lora");
    assertThat(tiny.getJsonArray("adapters").getJsonObject(0).getString("name")).isEqualTo("watercolor");
    assertThat(tiny.getJsonArray("adapters").getJsonObject(0).containsKey("files")).isFalse();
    assertThat(tiny.getJsonArray("conditioning").getJsonObject(0).getString("name")).isEqualTo("edges");
    assertThat(tiny.getJsonObject("steps").getInteger("max")).isEqualTo(40); // the manifest's 40 within config's 50
    JsonObject small = byName(models, "genmesh-small");
    assertThat(small.getString("current_version")).isEqualTo("2.0.0");
    assertThat(small.getJsonObject("width").getInteger("max")).isEqualTo(512); // config's 512 within the manifest's 1024
    assertThat(small.getString("source")).isEqualTo("registry");
  }

  @Test
  void withoutAnyRegistryTheListingComesFromConfiguration() throws Exception {
    JsonObject body = Waits.await(10, http.get(port, "127.0.0.1", "/v1/models").send()).bodyAsJsonObject();

    assertThat(body.getString("source")).isEqualTo("config");
    JsonObject tiny = byName(body.getJsonArray("models"), "genmesh-tiny");
    assertThat(tiny.getJsonArray("versions").getList()).containsExactly(ConfigLoader.defaults().models().get("genmesh-tiny").version());
    assertThat(tiny.getJsonObject("width").getInteger("multiple_of")).isEqualTo(64);
  }

  @Test
  void aPinnedVersionMustBePublishedAndServed() throws Exception {
    usWest.models = listing(model("genmesh-tiny", "1.1.0", "1.0.0", "1.1.0"));

    HttpResponse<Buffer> unknown = submit("genmesh-tiny@9.9.9");
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(unknown.bodyAsJsonObject().getString("code")).isEqualTo("unknown_model");
    assertThat(unknown.bodyAsJsonObject().getString("message")).contains("9.9.9").contains("not published");

    HttpResponse<Buffer> old = submit("genmesh-tiny@1.0.0");
    assertThat(old.statusCode()).isEqualTo(400);
    assertThat(old.bodyAsJsonObject().getString("message")).contains("not served");
    assertThat(usWest.submits).isEmpty();

    HttpResponse<Buffer> current = submit("genmesh-tiny@1.1.0");
    assertThat(current.statusCode()).isEqualTo(202);
    assertThat(usWest.submits).hasSize(1);
    assertThat(usWest.submits.get(0).getString("model")).isEqualTo("genmesh-tiny");
  }

  private HttpResponse<Buffer> submit(String model) throws Exception {
    return Waits.await(10, http.post(port, "127.0.0.1", "/v1/generations")
        .sendJsonObject(new JsonObject().put("prompt", "a cat").put("model", model)));
  }

  private static JsonObject listing(JsonObject... models) {
    return new JsonObject().put("models", new JsonArray(List.of((Object[]) models)));
  }

  /** A registry entry shaped like ModelRegistry.listing(): each version with its manifest summary. */
  private static JsonObject model(String name, String current, String... versions) {
    JsonArray list = new JsonArray();
    for (String version : versions) {
      JsonObject manifest = new JsonObject().put("name", name).put("version", version)
          .put("width", new JsonObject().put("min", 256).put("max", 1024).put("multiple_of", 64))
          .put("height", new JsonObject().put("min", 256).put("max", 1024).put("multiple_of", 64))
          .put("steps", new JsonObject().put("min", 1).put("max", 40).put("multiple_of", 1))
          .put("request_classes", new JsonArray().add("sdxl").add("sdxl_lora"))
          .put("adapters", new JsonArray().add(new JsonObject().put("name", "watercolor").put("version", "1").put("rank", 4)
              .put("files", new JsonArray())))
          .put("conditioning", new JsonArray().add(new JsonObject().put("name", "edges").put("kind", "control")));
      list.add(new JsonObject().put("version", version).put("manifest", manifest));
    }
    return new JsonObject().put("name", name).put("current", current).put("versions", list);
  }

  private static JsonObject byName(JsonArray models, String name) {
    for (Object item : models) {
      if (name.equals(((JsonObject) item).getString("name"))) {
        return (JsonObject) item;
      }
    }
    throw new AssertionError("no model " + name + " in " + models.encode());
  }
}
