package dev.genmesh.safety;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.SafetyConfig;
import dev.genmesh.images.ImageStore;
import dev.genmesh.images.ImageStores;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The reference service's HTTP contract (region-node/SAFETY.md), with its images in the embedded
 * object store behind presigned URLs; region-node's SafetyClientTest reads it with the client.
 */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class SafetyVerticleTest {
  private Vertx vertx;
  private WebClient http;
  private SafetyVerticle service;
  private ImageStore images;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @BeforeEach
  void deploy(Vertx vertx, TestStores stores) throws Exception {
    this.vertx = vertx;
    this.http = WebClient.create(vertx);
    images = ImageStores.s3(vertx, ConfigLoader.load(null, stores.imagesEnv(stores.createBucket())).images()
        .forRegion("us-west"));
    service = new SafetyVerticle(SafetyConfig.defaults(), "127.0.0.1", 0, registry);
    Waits.await(20, vertx.deployVerticle(service));
  }

  @AfterEach
  void close() {
    Waits.await(images.close());
  }

  private static byte[] png(int width, int height) throws IOException {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int x = 0; x < width; x++) {
      for (int y = 0; y < height; y++) {
        image.setRGB(x, y, (x * 7 % 256) << 16 | (y * 5 % 256) << 8 | ((x + y) % 256));
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    javax.imageio.ImageIO.write(image, "png", out);
    return out.toByteArray();
  }

  /** The image stored, as a check names it: key, presigned URL, size, SHA-256. */
  private JsonObject stored(byte[] png) throws Exception {
    String key = "usw_" + UUID.randomUUID().toString().replace("-", "") + "/1/0.png";
    Waits.await(images.put(key, Buffer.buffer(png), ImageStores.PNG, null));
    return new JsonObject().put("key", key).put("url", images.presignGet(key, Duration.ofMinutes(1)))
        .put("size", png.length).put("sha256", HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(png)));
  }

  private HttpResponse<Buffer> check(Object body) throws Exception {
    return Waits.await(20, http.post(service.actualPort(), "127.0.0.1", "/v1/check")
        .sendBuffer(Buffer.buffer(body instanceof JsonObject json ? json.encode() : String.valueOf(body))));
  }

  private static JsonObject body(String prompt, JsonArray images) {
    return new JsonObject().put("request_id", "usw_x").put("prompt", prompt).put("negative_prompt", "gore")
        .put("width", 64).put("height", 64).put("images", images);
  }

  @Test
  void allowsACleanPromptAndImageAndBlocksWithReasons() throws Exception {
    HttpResponse<Buffer> allowed = check(body("a lighthouse at dusk", new JsonArray().add(stored(png(64, 64)))));
    assertThat(allowed.statusCode()).isEqualTo(200);
    assertThat(allowed.bodyAsJsonObject().getString("verdict")).as("the negative prompt is not judged").isEqualTo("allow");
    assertThat(allowed.bodyAsJsonObject().getJsonArray("reasons")).isEmpty();
    assertThat(allowed.bodyAsJsonObject().getString("request_id")).isEqualTo("usw_x");

    HttpResponse<Buffer> blocked = check(body("a b-e-h-e-a-d-i-n-g",
        new JsonArray().add(stored(png(64, 64))).add(stored(png(32, 32)))));
    assertThat(blocked.bodyAsJsonObject().getString("verdict")).isEqualTo("block");
    assertThat(blocked.bodyAsJsonObject().getJsonArray("reasons").getList()).containsExactly(
        "prompt contains the blocked term 'beheading'", "image 1 is 32x32, the request asked for 64x64");
    assertThat(check(body("just a prompt", new JsonArray())).bodyAsJsonObject().getString("verdict")).isEqualTo("allow");
    assertThat(registry.get(SafetyVerticle.CHECKS).tag("verdict", "block").counter().count()).isEqualTo(1.0);
  }

  @Test
  void anImageThatIsMissingOrNotWhatTheWorkerReportedIsBlocked() throws Exception {
    JsonObject gone = stored(png(64, 64));
    Waits.await(images.delete(gone.getString("key")));
    JsonObject tampered = stored(png(64, 64)).put("sha256", "00".repeat(32));
    HttpResponse<Buffer> blocked = check(body("a lighthouse", new JsonArray().add(gone).add(tampered)));
    assertThat(blocked.statusCode()).isEqualTo(200);
    assertThat(blocked.bodyAsJsonObject().getJsonArray("reasons").getList()).containsExactly(
        "image 0 is not in the region's object store", "image 1 does not match the SHA-256 the worker reported");
  }

  @Test
  void anImageThatCannotBeReadNowIs503SoTheRegionAsksAgain() throws Exception {
    JsonObject expired = stored(png(64, 64));
    expired.put("url", images.presignGet(expired.getString("key"), Duration.ofSeconds(1)));
    Thread.sleep(2_100);
    HttpResponse<Buffer> unavailable = check(body("a lighthouse", new JsonArray().add(expired)));
    assertThat(unavailable.statusCode()).isEqualTo(503);
    assertThat(unavailable.bodyAsJsonObject().getString("code")).isEqualTo("storage_unavailable");
  }

  @Test
  void malformedChecksAre400WithTheField() throws Exception {
    HttpResponse<Buffer> notJson = check("{nope");
    assertThat(notJson.statusCode()).isEqualTo(400);
    assertThat(notJson.bodyAsJsonObject().getString("code")).isEqualTo("invalid_json");
    assertThat(check(new JsonObject().put("width", 1).put("height", 1)).bodyAsJsonObject().getString("field")).isEqualTo("prompt");
    assertThat(check(body("x", new JsonArray()).put("width", 0)).bodyAsJsonObject().getString("field")).isEqualTo("width");
    HttpResponse<Buffer> noHeight = check(body("x", new JsonArray()).putNull("height"));
    assertThat(noHeight.bodyAsJsonObject().getString("code")).isEqualTo("missing_field");
    assertThat(noHeight.bodyAsJsonObject().getString("field")).isEqualTo("height");
    HttpResponse<Buffer> base64 = check(body("x", new JsonArray().add("iVBORw0KGgo=")));
    assertThat(base64.statusCode()).as("images go by URL now, not base64").isEqualTo(400);
    assertThat(base64.bodyAsJsonObject().getString("field")).isEqualTo("images");
    assertThat(check(body("x", new JsonArray().add(new JsonObject().put("key", "k")))).bodyAsJsonObject()
        .getString("field")).isEqualTo("images");
  }

  @Test
  void healthAnswers() throws Exception {
    assertThat(Waits.await(20, http.get(service.actualPort(), "127.0.0.1", "/health/live").send()).statusCode()).isEqualTo(200);
    assertThat(Waits.await(20, http.get(service.actualPort(), "127.0.0.1", "/health/ready").send()).statusCode()).isEqualTo(200);
  }
}
