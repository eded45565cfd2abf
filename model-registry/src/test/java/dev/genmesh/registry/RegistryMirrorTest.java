package dev.genmesh.registry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.testkit.Waits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A secondary region's registry mirroring the primary's, both served over real HTTP on loopback
 * by the registry routes, with registry folders in a temporary directory.
 */
class RegistryMirrorTest {
  private static final String DATA = "variables/variables.data-00000-of-00001";

  @TempDir Path dir;
  private Vertx vertx;
  private WorkerExecutor io;
  private WebClient http;
  private ModelRegistry primary;
  private ModelRegistry secondary;
  private HttpServer primaryServer;
  private HttpServer secondaryServer;
  private RegistryMirror mirror;
  private SimpleMeterRegistry meters;
  private final AtomicInteger primaryFileGets = new AtomicInteger();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    io = vertx.createSharedWorkerExecutor("test-registry-io", 4);
    http = WebClient.create(vertx);
    primary = new ModelRegistry(dir.resolve("registry/us-west"));
    secondary = new ModelRegistry(dir.resolve("registry/us-east"));
    Router primaryRouter = Router.router(vertx);
    primaryRouter.route().handler(ctx -> {
      if (ctx.request().path().contains("/files/")) {
        primaryFileGets.incrementAndGet();
      }
      ctx.next();
    });
    new RegistryRoutes(primary, io).mount(primaryRouter);
    primaryServer = Waits.await(vertx.createHttpServer().requestHandler(primaryRouter).listen(0, "127.0.0.1"));
    String primaryUrl = "http://127.0.0.1:" + primaryServer.actualPort();
    meters = new SimpleMeterRegistry();
    // An interval longer than any test: each round here is one the test asks for.
    mirror = new RegistryMirror(vertx, secondary, new RegistryMirror.Settings("us-east", "us-west", 3_600_000, 30_000, 5_000),
        () -> primaryUrl, io, meters, Clock.systemUTC());
    secondaryServer = Waits.await(vertx.createHttpServer()
        .requestHandler(RegistryRoutes.router(vertx, secondary, io, mirror)).listen(0, "127.0.0.1"));
  }

  @AfterEach
  void close() throws Exception {
    Waits.await(mirror.stop());
    Waits.await(vertx.close());
  }

  @Test
  void aSecondaryPullsWhatThePrimaryPublishesWithIdenticalChecksumsAndNeverFetchesAVersionTwice() throws Exception {
    primary.publish(Bundles.write(dir.resolve("b1"), "m", "1.0.0"), true);

    Waits.await(mirror.sync());

    assertThat(secondary.versions("m")).extracting(PublishedVersion::version).containsExactly("1.0.0");
    assertThat(secondary.current("m")).contains("1.0.0");
    assertSameBytesServed("m", "1.0.0");
    int fetched = primaryFileGets.get();
    assertThat(fetched).isEqualTo(3);

    primary.publish(Bundles.write(dir.resolve("b2"), "m", "1.1.0"), false);
    Waits.await(mirror.sync());
    Waits.await(mirror.sync());

    assertThat(secondary.versions("m")).extracting(PublishedVersion::version).containsExactly("1.0.0", "1.1.0");
    assertThat(secondary.current("m")).contains("1.0.0"); // the primary's CURRENT did not move
    assertSameBytesServed("m", "1.1.0");
    assertThat(primaryFileGets.get()).isEqualTo(fetched + 3); // 1.0.0 was not fetched again
    assertThat(meters.get("genmesh.registry.mirror.pulls").counter().count()).isEqualTo(2.0);
    assertThat(meters.get("genmesh.registry.mirror.versions").gauge().value()).isEqualTo(2.0);
    assertThat(secondary.version("m", "1.1.0").orElseThrow().previousVersion()).isEqualTo("1.0.0"); // the primary's manifest
    assertThat(listing(secondaryServer).getJsonObject("mirror").getString("state")).isEqualTo("following");
  }

  @Test
  void currentFollowsThePrimaryForwardAndBack() throws Exception {
    primary.publish(Bundles.write(dir.resolve("b1"), "m", "1"), true);
    primary.publish(Bundles.write(dir.resolve("b2"), "m", "2"), true);
    Waits.await(mirror.sync());
    assertThat(secondary.current("m")).contains("2");

    primary.rollback("m", null);
    Waits.await(mirror.sync());

    assertThat(secondary.current("m")).contains("1");
    assertThat(listing(secondaryServer).getJsonArray("models").getJsonObject(0).getString("current")).isEqualTo("1");
  }

  @Test
  void aFileCorruptedOnThePrimaryIsRefusedAndNotPublishedHere() throws Exception {
    primary.publish(Bundles.write(dir.resolve("b1"), "m", "1"), true);
    Waits.await(mirror.sync());
    primary.publish(Bundles.write(dir.resolve("b2"), "m", "2"), true);
    flipOneByte(primary.root().resolve("m/2").resolve(DATA)); // the primary now serves bytes its manifest does not list

    Waits.await(mirror.sync());

    assertThat(secondary.version("m", "2")).isEmpty();
    assertThat(secondary.current("m")).contains("1"); // CURRENT stays on what is held
    assertThat(hiddenFolders(secondary.root().resolve("m"))).isEmpty(); // no staging left behind
    assertThat(meters.get("genmesh.registry.mirror.failures").tag("reason", "checksum").counter().count()).isEqualTo(1.0);
    HttpResponse<Buffer> asked = get(secondaryServer, "/regional/v1/models/m/2/manifest.json");
    assertThat(asked.statusCode()).isEqualTo(503);
    assertThat(asked.bodyAsJsonObject().getString("code")).isEqualTo("model_not_cached");
    assertThat(asked.bodyAsJsonObject().getString("message")).contains("SHA-256");
    assertThat(asked.getHeader("Retry-After")).isNotBlank();
    assertThat(listing(secondaryServer).getJsonObject("mirror").getString("last_problem")).contains(DATA);
  }

  @Test
  void withThePrimaryGoneTheSecondaryKeepsServingWhatItHolds() throws Exception {
    primary.publish(Bundles.write(dir.resolve("b1"), "m", "1"), true);
    Waits.await(mirror.sync());
    Waits.await(primaryServer.close());

    assertThat(Waits.failure(mirror.sync())).isNotNull();
    assertThat(Waits.failure(mirror.sync())).isNotNull();

    assertThat(meters.get("genmesh.registry.mirror.failures").tag("reason", "unreachable").counter().count()).isEqualTo(2.0);
    JsonObject listing = listing(secondaryServer);
    assertThat(listing.getJsonObject("mirror").getString("state")).isEqualTo("primary_unreachable");
    assertThat(listing.getJsonArray("models").getJsonObject(0).getString("current")).isEqualTo("1");
    assertSameBytesAsPublished("m", "1"); // a worker-style fetch: manifest, then every file by its SHA-256
    HttpResponse<Buffer> unheld = get(secondaryServer, "/regional/v1/models/m/2/manifest.json");
    assertThat(unheld.statusCode()).isEqualTo(503);
    assertThat(unheld.bodyAsJsonObject().getString("message")).contains("does not answer").contains("us-west");
    assertThat(unheld.getHeader("Retry-After")).isEqualTo("3600");
  }

  @Test
  void aVersionAskedForAndNotHeldIsPulledOnDemand() throws Exception {
    primary.publish(Bundles.write(dir.resolve("b1"), "m", "1"), true);
    primary.publish(Bundles.write(dir.resolve("b2"), "m", "2"), false);

    HttpResponse<Buffer> manifest = get(secondaryServer, "/regional/v1/models/m/2/manifest.json");
    HttpResponse<Buffer> unknown = get(secondaryServer, "/regional/v1/models/m/9/manifest.json");

    assertThat(manifest.statusCode()).isEqualTo(200);
    assertThat(manifest.body().getBytes()).isEqualTo(Files.readAllBytes(primary.root().resolve("m/2/manifest.json")));
    assertThat(secondary.version("m", "2")).isPresent();
    assertThat(secondary.version("m", "1")).isEmpty(); // only what was asked for, until the next round
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.bodyAsJsonObject().getString("message")).contains("nor in the primary registry us-west");
  }

  @Test
  void startedItSyncsByItselfAndClearsLeftoverStaging() throws Exception {
    primary.publish(Bundles.write(dir.resolve("b1"), "m", "1"), true);
    Path leftover = secondary.root().resolve("m/.mirror-0-crashed");
    Files.createDirectories(leftover);
    Files.writeString(leftover.resolve("half"), "half a file");

    mirror.start();

    Waits.eventually("the secondary holds m 1", () -> secondary.current("m").isPresent());
    Waits.eventually("the leftover staging folder is gone", () -> !Files.exists(leftover));
    assertThat(meters.get("genmesh.registry.mirror.sync.age").gauge().value()).isLessThan(3600.0);
  }

  /** The secondary serves the same manifest bytes and file bytes (and ETags) as the primary. */
  private void assertSameBytesServed(String name, String version) throws Exception {
    String base = "/regional/v1/models/" + name + "/" + version;
    HttpResponse<Buffer> fromPrimary = get(primaryServer, base + "/manifest.json");
    HttpResponse<Buffer> fromSecondary = get(secondaryServer, base + "/manifest.json");
    assertThat(fromSecondary.body()).isEqualTo(fromPrimary.body());
    assertThat(fromSecondary.getHeader("ETag")).isEqualTo(fromPrimary.getHeader("ETag"));
    assertSameBytesAsPublished(name, version);
  }

  /** Fetches the manifest and every file from the secondary and checks each against the manifest's SHA-256. */
  private void assertSameBytesAsPublished(String name, String version) throws Exception {
    String base = "/regional/v1/models/" + name + "/" + version;
    JsonObject manifest = get(secondaryServer, base + "/manifest.json").bodyAsJsonObject();
    List<ManifestFile> files = ManifestFile.listedIn(manifest);
    assertThat(files).hasSize(3);
    for (ManifestFile file : files) {
      HttpResponse<Buffer> body = get(secondaryServer, base + "/files/" + file.path());
      assertThat(body.statusCode()).isEqualTo(200);
      assertThat(Sha256.of(body.body().getBytes())).isEqualTo(file.sha256());
      assertThat(body.getHeader("ETag")).isEqualTo("\"" + file.sha256() + "\"");
    }
  }

  private JsonObject listing(HttpServer server) throws Exception {
    return get(server, RegistryRoutes.MODELS).bodyAsJsonObject();
  }

  private HttpResponse<Buffer> get(HttpServer server, String path) throws Exception {
    return Waits.await(30, http.get(server.actualPort(), "127.0.0.1", path).send());
  }

  private static List<Path> hiddenFolders(Path modelDir) throws Exception {
    try (Stream<Path> children = Files.list(modelDir)) {
      return children.filter(p -> p.getFileName().toString().startsWith(".")).toList();
    }
  }

  private static void flipOneByte(Path file) throws Exception {
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length / 2] ^= 0x5a;
    Files.write(file, bytes);
  }
}
