package dev.genmesh.region.safety;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.SafetyConfig;
import dev.genmesh.images.ImageStore;
import dev.genmesh.images.ImageStores;
import dev.genmesh.region.TestRegion;
import dev.genmesh.registry.Sha256;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.safety.SafetyCheck;
import dev.genmesh.protocol.safety.SafetyVerdict;
import dev.genmesh.safety.SafetyVerticle;
import dev.genmesh.testkit.Waits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.UUID;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The client's circuit breaker against a port nobody listens on, then the service started there. */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class SafetyClientTest {
  private static final SafetyCheck CHECK = new SafetyCheck("usw_1", "a fox", "", 8, 8, List.of());

  @Test
  void opensAfterExactlyTheConfiguredFailuresInARowAndClosesOnASuccessfulTrial(Vertx vertx) throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    List<JsonObject> alerts = new CopyOnWriteArrayList<>();
    Waits.await(vertx.eventBus().<JsonObject>consumer(Addresses.ALERTS, m -> alerts.add(m.body())).completion());
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    SafetyConfig config = new SafetyConfig("", 0, 1_000, 100, 60_000, 3, 400, List.of());
    SafetyClient client = new SafetyClient(vertx, "us-west", config, "http://127.0.0.1:" + port, meters);

    for (int i = 1; i <= 2; i++) {
      assertThat(Waits.await(client.check(CHECK)).outcome()).isEqualTo(SafetyVerdict.Outcome.UNAVAILABLE);
      assertThat(client.state()).as("after %d failures", i).isEqualTo("closed");
    }
    SafetyVerdict third = Waits.await(client.check(CHECK));
    assertThat(third.outcome()).isEqualTo(SafetyVerdict.Outcome.UNAVAILABLE);
    assertThat(third.detail()).contains("Connection refused");
    assertThat(client.state()).isEqualTo("open");
    assertThat(client.acceptsCalls()).isFalse();
    SafetyVerdict refused = Waits.await(client.check(CHECK));
    assertThat(refused.detail()).isEqualTo("circuit open after repeated failures");

    SafetyVerticle service = new SafetyVerticle(SafetyConfig.defaults(), "127.0.0.1", port, meters);
    Waits.await(vertx.deployVerticle(service));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!client.state().equals("half_open") && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(client.state()).isEqualTo("half_open");
    assertThat(Waits.await(client.check(CHECK)).outcome()).isEqualTo(SafetyVerdict.Outcome.ALLOW);
    assertThat(client.state()).isEqualTo("closed");

    long deadlineAlerts = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (alerts.size() < 3 && System.nanoTime() < deadlineAlerts) {
      Thread.sleep(20);
    }
    assertThat(alerts).extracting(a -> a.getString("from") + "->" + a.getString("to"))
        .containsExactly("closed->open", "open->half_open", "half_open->closed");
    assertThat(alerts).allSatisfy(a -> {
      assertThat(a.getString("type")).isEqualTo("breaker");
      assertThat(a.getString("kind")).isEqualTo("safety");
      assertThat(a.getString("region")).isEqualTo("us-west");
    });
    assertThat(meters.get(SafetyClient.TRANSITIONS).tags("from", "closed", "to", "open").counter().count()).isEqualTo(1.0);
    client.close();
  }

  @Test
  void aSuccessResetsTheFailureCount(Vertx vertx) throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    SafetyConfig config = new SafetyConfig("", 0, 1_000, 100, 60_000, 2, 60_000, List.of());
    SafetyClient client = new SafetyClient(vertx, "us-west", config, "http://127.0.0.1:" + port, new SimpleMeterRegistry());

    assertThat(Waits.await(client.check(CHECK)).outcome()).isEqualTo(SafetyVerdict.Outcome.UNAVAILABLE);
    String deployment = Waits.await(vertx.deployVerticle(
        new SafetyVerticle(SafetyConfig.defaults(), "127.0.0.1", port, new SimpleMeterRegistry())));
    assertThat(Waits.await(client.check(CHECK)).outcome()).isEqualTo(SafetyVerdict.Outcome.ALLOW);
    Waits.await(vertx.undeploy(deployment));
    assertThat(Waits.await(client.check(CHECK)).outcome()).isEqualTo(SafetyVerdict.Outcome.UNAVAILABLE);
    assertThat(client.state()).as("fail, succeed, fail: not two in a row").isEqualTo("closed");
    assertThat(Waits.await(client.check(CHECK)).outcome()).isEqualTo(SafetyVerdict.Outcome.UNAVAILABLE);
    assertThat(client.state()).as("two failures in a row").isEqualTo("open");
    client.close();
  }

  @Test
  void theClientReadsTheReferenceServicesVerdictsAndCallsNoAnswerUnavailable(Vertx vertx, TestStores stores)
      throws Exception {
    ImageStore bucket = ImageStores.s3(vertx, TestRegion.images(stores).forRegion(TestRegion.REGION));
    byte[] png = png(64, 64);
    String key = "usw_" + UUID.randomUUID().toString().replace("-", "") + "/1/0.png";
    Waits.await(bucket.put(key, Buffer.buffer(png), ImageStores.PNG, null));
    SafetyCheck.Image image = new SafetyCheck.Image(key, bucket.presignGet(key, Duration.ofMinutes(1)), png.length,
        Sha256.of(png));
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    SafetyVerticle service = new SafetyVerticle(SafetyConfig.defaults(), "127.0.0.1", 0, meters);
    Waits.await(vertx.deployVerticle(service));
    SafetyConfig config = SafetyConfig.defaults();
    SafetyClient client = new SafetyClient(vertx, "us-west", config, "http://127.0.0.1:" + service.actualPort() + "/",
        meters);
    SafetyVerdict allow = Waits.await(client.check(new SafetyCheck("usw_1", "a fox", "", 64, 64, List.of(image))));
    assertThat(allow.outcome()).isEqualTo(SafetyVerdict.Outcome.ALLOW);
    SafetyVerdict block = Waits.await(client.check(new SafetyCheck("usw_2", "GORE", "", 64, 64, List.of(image))));
    assertThat(block.outcome()).isEqualTo(SafetyVerdict.Outcome.BLOCK);
    assertThat(block.reasons()).containsExactly("prompt contains the blocked term 'gore'");
    client.close();

    SafetyClient wrongPath = new SafetyClient(vertx, "us-west", config, "http://127.0.0.1:" + service.actualPort() + "/nothing",
        meters);
    SafetyVerdict none = Waits.await(wrongPath.check(new SafetyCheck("usw_3", "a fox", "", 64, 64, List.of(image))));
    assertThat(none.outcome()).isEqualTo(SafetyVerdict.Outcome.UNAVAILABLE);
    assertThat(none.detail()).contains("HTTP 404");
    wrongPath.close();
    Waits.await(bucket.close());
  }

  private static byte[] png(int width, int height) throws java.io.IOException {
    java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(width, height, java.awt.image.BufferedImage.TYPE_INT_RGB);
    for (int x = 0; x < width; x++) {
      for (int y = 0; y < height; y++) {
        image.setRGB(x, y, (x * 7 % 256) << 16 | (y * 5 % 256) << 8 | ((x + y) % 256));
      }
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    javax.imageio.ImageIO.write(image, "png", out);
    return out.toByteArray();
  }
}
