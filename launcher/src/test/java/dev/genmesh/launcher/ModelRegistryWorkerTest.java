package dev.genmesh.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.EdgeConfig;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.edge.EdgeVerticle;
import dev.genmesh.inference.InferenceVerticle;
import dev.genmesh.inference.model.TinyModelBuilder;
import dev.genmesh.inference.registry.RegistryModelSource;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.WorkerMessages;
import dev.genmesh.registry.ModelRegistry;
import dev.genmesh.registry.RegistryRoutes;
import dev.genmesh.registry.Sha256;
import dev.genmesh.testkit.Waits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The model registry end to end, with the real parts: a region's registry served by the real
 * registry routes over HTTP, real inference workers (TensorFlow on CPU) pulling from it into
 * their cache, the {@code genmesh model} commands, and the edge listing what the registry holds.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ModelRegistryWorkerTest {
  private static final String REGION = "us-west";
  private static final String MODEL = "genmesh-tiny";
  private static final String DATA_FILE = "variables/variables.data-00000-of-00001";
  private static final long WAIT_S = 120;

  @TempDir static Path root;
  private Path dir;
  private Path v1;
  private Path v2;
  private Vertx vertx;
  private Path registryDir;
  private ModelRegistry registry;
  private HttpServer server;
  private GenmeshConfig config;
  private SimpleMeterRegistry meters;
  private final List<JsonObject> alerts = new CopyOnWriteArrayList<>();

  /** Two versions of the bundled model: version 2 is version 1 re-released (same files, new manifest). */
  @BeforeAll
  void buildBundles() throws Exception {
    Path bundles = root.resolve("bundles");
    v1 = bundles.resolve("v1");
    TinyModelBuilder.build(v1, MODEL, "1", TinyModelBuilder.DEFAULT_WEIGHT_SEED);
    v2 = rerelease(v1, bundles.resolve("v2"), MODEL, "2");
  }

  @BeforeEach
  void serveRegistry() throws Exception {
    dir = Files.createTempDirectory(root, "test-");
    alerts.clear();
    vertx = Vertx.vertx();
    registryDir = dir.resolve("registry").resolve(REGION);
    registry = new ModelRegistry(registryDir);
    server = Waits.await(WAIT_S, vertx.createHttpServer().requestHandler(RegistryRoutes.router(vertx, registry, null)).listen(0, "127.0.0.1"));
    GenmeshConfig loaded = ConfigLoader.load(null, Map.of(
        "GENMESH_WORKER__MODELS", "[" + MODEL + "]",
        "GENMESH_WORKER__CLAIM_POLL_MS", "500",
        "GENMESH_REGISTRY__POLL_INTERVAL_MS", "100"));
    RegionConfig region = loaded.region(REGION).withApiUrl("http://127.0.0.1:" + server.actualPort());
    config = loaded.withRegions(Map.of(REGION, region));
    meters = new SimpleMeterRegistry();
    vertx.eventBus().<JsonObject>consumer(Addresses.ALERTS, message -> alerts.add(message.body()));
  }

  @AfterEach
  void close() throws Exception {
    Waits.await(WAIT_S, vertx.close());
  }

  @Test
  void aCorruptedCachedFileIsDetectedPulledAgainAndLoads() throws Exception {
    registry.publish(v1, true);
    Path modelRoot = dir.resolve("models");
    String first = deploy(worker("usw-a", modelRoot)).deploymentId;
    Path cached = modelRoot.resolve(MODEL).resolve("1").resolve(DATA_FILE);
    String good = Sha256.of(cached);
    Waits.await(WAIT_S, vertx.undeploy(first));

    flipOneByte(cached);
    assertThat(Sha256.of(cached)).isNotEqualTo(good);
    Deployed second = deploy(worker("usw-b", modelRoot));

    assertThat(second.worker.loadedVersions()).containsEntry(MODEL, "1");
    assertThat(Sha256.of(cached)).isEqualTo(good);
    assertThat(count("genmesh.worker.model.corrupted", "usw-b")).isEqualTo(1);
    assertThat(count("genmesh.worker.model.pulls", "usw-b")).isEqualTo(1);
    assertThat(alerts).isEmpty();
  }

  @Test
  void aVersionThatStaysCorruptedIsRolledBackWithAnAlert() throws Exception {
    registry.publish(v1, true);
    Deployed running = deploy(worker("usw-c", dir.resolve("models-c")));
    registry.publish(v2, true);
    flipOneByte(registryDir.resolve(MODEL).resolve("2").resolve(DATA_FILE)); // the registry itself serves a bad file

    Waits.eventually(WAIT_S, () -> !alerts.isEmpty(), "a rollback alert");

    assertThat(alerts.get(0).copy().put("reason", "-").put("time", "-")).isEqualTo(new JsonObject()
        .put("type", "model_rollback").put("model", MODEL).put("bad_version", "2").put("good_version", "1")
        .put("worker", "usw-c").put("region", REGION).put("reason", "-").put("time", "-"));
    assertThat(alerts.get(0).getString("reason")).contains(DATA_FILE);
    assertThat(running.worker.loadedVersions()).containsEntry(MODEL, "1");
    assertThat(dir.resolve("models-c").resolve(MODEL).resolve("2")).doesNotExist();
    assertThat(meters.find("genmesh.worker.model.pulls").tags("worker", "usw-c", "outcome", "checksum_mismatch")
        .counter().count()).isEqualTo(2.0); // registry.pull_attempts
    assertThat(count("genmesh.worker.model.rollbacks", "usw-c")).isEqualTo(1);

    // A worker starting now gets the previous good version too, and says so.
    Deployed fresh = deploy(worker("usw-d", dir.resolve("models-d")));
    assertThat(fresh.worker.loadedVersions()).containsEntry(MODEL, "1");
    assertThat(alerts).anySatisfy(alert -> assertThat(alert.getString("worker")).isEqualTo("usw-d"));
  }

  @Test
  void aModelWhoseOnlyVersionStaysCorruptedLeavesTheWorkerServingTheOther() throws Exception {
    registry.publish(v1, true);
    registry.publish(rerelease(v1, dir.resolve("small"), "genmesh-small", "0.1.0"), true);
    flipOneByte(registryDir.resolve("genmesh-small").resolve("0.1.0").resolve(DATA_FILE)); // nothing to roll back to
    GenmeshConfig both = ConfigLoader.load(null, Map.of("GENMESH_WORKER__MODELS", "[" + MODEL + ", genmesh-small]"))
        .withRegions(config.regions());
    List<WorkerMessages.Heartbeat> beats = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer(Addresses.heartbeat(REGION),
        message -> beats.add(WorkerMessages.Heartbeat.fromJson(message.body())));
    Path modelRoot = dir.resolve("models-f");

    InferenceVerticle worker = deploy(new InferenceVerticle(both, REGION, "usw-f", meters, modelRoot,
        new RegistryModelSource(both, REGION, "usw-f", modelRoot, meters))).worker;
    assertThat(worker.ready()).isTrue();
    worker.warmUpFinished().toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS); // small loads behind

    assertThat(worker.loadedVersions()).containsOnlyKeys(MODEL);
    assertThat(worker.failedModels()).containsExactly("genmesh-small");
    assertThat(meters.find("genmesh.worker.model.pulls").tags("worker", "usw-f", "model", "genmesh-small",
        "outcome", "checksum_mismatch").counter().count()).isEqualTo(2.0); // registry.pull_attempts
    Waits.eventually(WAIT_S, () -> beats.stream().anyMatch(b -> b.ready() && b.failedModels().contains("genmesh-small")),
        "a ready heartbeat listing the failed model");
    assertThat(alerts).as("no earlier version: nothing to roll back to").isEmpty();
  }

  @Test
  void publishIsImmutableAndWorkersFollowPublishAndRollback() throws Exception {
    assertThat(cli("model", "publish", "--registry", registryDir.toString(), "--from", v1.toString()).exit).isZero();
    Deployed running = deploy(worker("usw-e", dir.resolve("models-e")));
    assertThat(running.worker.loadedVersions()).containsEntry(MODEL, "1");

    Cli published = cli("model", "publish", "--registry", registryDir.toString(), "--from", v2.toString(), "--current");
    assertThat(published.exit).isZero();
    assertThat(published.out).contains("published genmesh-tiny 2").contains("it is current");
    Waits.eventually(WAIT_S, () -> "2".equals(running.worker.loadedVersions().get(MODEL)), "the worker switched to version 2");

    Cli again = cli("model", "publish", "--registry", registryDir.toString(), "--from", v2.toString());
    assertThat(again.exit).isNotZero();
    assertThat(again.err).contains("already published");

    Cli rollback = cli("model", "rollback", "--registry", registryDir.toString(), "--name", MODEL);
    assertThat(rollback.exit).isZero();
    assertThat(rollback.out).contains("current 2 -> 1");
    assertThat(registry.current(MODEL)).contains("1");
    Waits.eventually(WAIT_S, () -> "1".equals(running.worker.loadedVersions().get(MODEL)), "the worker switched back to version 1");

    Cli list = cli("model", "list", "--registry", registryDir.toString());
    assertThat(list.out).contains(MODEL).containsPattern("\\* 1 ").contains("  2 ");
  }

  @Test
  void aSwitchDeletesOlderCachedVersionsButKeepsThePreviousOneAndWhatAnotherWorkerRuns() throws Exception {
    Path v3 = rerelease(v1, dir.resolve("v3"), MODEL, "3");
    Path v4 = rerelease(v1, dir.resolve("v4"), MODEL, "4");
    registry.publish(v1, true);
    // As in genmesh up: another region's registry (version 1 stays current there), and its worker
    // sharing the model directory.
    ModelRegistry otherRegistry = new ModelRegistry(dir.resolve("registry").resolve("eu-west"));
    otherRegistry.publish(v1, true);
    HttpServer otherServer = Waits.await(WAIT_S, vertx.createHttpServer()
        .requestHandler(RegistryRoutes.router(vertx, otherRegistry, null)).listen(0, "127.0.0.1"));
    GenmeshConfig otherConfig = config.withRegions(Map.of(REGION,
        config.region(REGION).withApiUrl("http://127.0.0.1:" + otherServer.actualPort())));
    Path shared = dir.resolve("models-shared");
    Deployed running = deploy(worker("usw-f", shared));
    Deployed other = deploy(new InferenceVerticle(otherConfig, REGION, "euw-f", meters, shared,
        new RegistryModelSource(otherConfig, REGION, "euw-f", shared, meters)));

    for (Path next : List.of(v2, v3, v4)) {
      registry.publish(next, true);
      String version = registry.current(MODEL).orElseThrow();
      Waits.eventually(WAIT_S, () -> version.equals(running.worker.loadedVersions().get(MODEL)), "the switch to " + version);
    }
    Waits.eventually(WAIT_S, () -> cachedVersions(shared).equals(List.of("1", "3", "4")), "version 2 deleted");
    assertThat(other.worker.loadedVersions()).containsEntry(MODEL, "1");

    Waits.await(WAIT_S, vertx.undeploy(other.deploymentId));
    double pulls = count("genmesh.worker.model.pulls", "usw-f");
    registry.rollback(MODEL, null);
    Waits.eventually(WAIT_S, () -> "3".equals(running.worker.loadedVersions().get(MODEL)), "the rollback to 3");
    Waits.eventually(WAIT_S, () -> cachedVersions(shared).equals(List.of("3", "4")), "version 1 deleted once nobody runs it");
    assertThat(count("genmesh.worker.model.pulls", "usw-f")).as("the rollback used the kept copy").isEqualTo(pulls);
  }

  @Test
  void theEdgeListsBothModelsOfTheRegistryWithTheirCapabilities() throws Exception {
    registry.publish(v1, true);
    registry.publish(v2, false);
    registry.publish(rerelease(v1, dir.resolve("small"), "genmesh-small", "0.1.0"), true);
    Path file = dir.resolve("two-models.yaml");
    Files.writeString(file, """
        models:
          genmesh-small:
            version: "0.1.0"
            path: ""
            min_size: 256
            max_size: 512
            size_multiple: 64
            default_width: 256
            default_height: 256
            min_steps: 1
            max_steps: 20
            default_steps: 8
            max_batch: 1
            min_guidance: 0.0
            max_guidance: 10.0
            default_guidance: 5.0
            request_classes: [sdxl]
        """);
    GenmeshConfig twoModels = ConfigLoader.load(file, Map.of()).withRegions(config.regions());
    EdgeVerticle edge = new EdgeVerticle(twoModels.withEdge(new EdgeConfig("127.0.0.1", 0, 65536, 2000, 60_000, 5_000,
        Map.of(REGION, 1L))), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    Waits.await(WAIT_S, vertx.deployVerticle(edge));

    JsonObject listing = Waits.await(WAIT_S, WebClient.create(vertx).get(edge.actualPort(), "127.0.0.1", "/v1/models").send())
        .bodyAsJsonObject();

    assertThat(listing.getString("source")).isEqualTo("registry");
    JsonArray models = listing.getJsonArray("models");
    assertThat(models).extracting(m -> ((JsonObject) m).getString("name")).containsExactly(MODEL, "genmesh-small");
    JsonObject tiny = models.getJsonObject(0);
    assertThat(tiny.getString("current_version")).isEqualTo("1");
    assertThat(tiny.getJsonArray("versions").getList()).containsExactly("1", "2");
    assertThat(tiny.getJsonObject("width")).isEqualTo(new JsonObject().put("min", 256).put("max", 1024).put("multiple_of", 64));
    assertThat(tiny.getJsonObject("steps").getInteger("max")).isEqualTo(50);
    assertThat(tiny.getJsonArray("request_classes")).isNotEmpty();
    assertThat(tiny.containsKey("adapters")).isTrue();
    assertThat(tiny.containsKey("conditioning")).isTrue();
    JsonObject small = models.getJsonObject(1);
    assertThat(small.getString("current_version")).isEqualTo("0.1.0");
    assertThat(small.getJsonObject("width").getInteger("max")).isEqualTo(512);
    assertThat(small.getJsonObject("steps").getInteger("max")).isEqualTo(20);
  }

  private record Deployed(InferenceVerticle worker, String deploymentId) {}

  private record Cli(int exit, String out, String err) {}

  private InferenceVerticle worker(String id, Path modelRoot) {
    return new InferenceVerticle(config, REGION, id, meters, modelRoot,
        new RegistryModelSource(config, REGION, id, modelRoot, meters));
  }

  private Deployed deploy(InferenceVerticle worker) throws Exception {
    return new Deployed(worker, Waits.await(WAIT_S, vertx.deployVerticle(worker)));
  }

  private static Cli cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = new CommandLine(new Main())
        .setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true))
        .setExecutionExceptionHandler((e, cmd, parsed) -> {
          cmd.getErr().println("genmesh: " + e.getMessage());
          return 1;
        })
        .execute(args);
    return new Cli(exit, out.toString(), err.toString());
  }

  private double count(String meter, String worker) {
    return meters.find(meter).tags("worker", worker).counters().stream().mapToDouble(c -> c.count()).sum();
  }

  /** The version folders of the model in a model directory, sorted. */
  private static List<String> cachedVersions(Path modelRoot) {
    try (Stream<Path> children = Files.list(modelRoot.resolve(MODEL))) {
      return children.filter(Files::isDirectory).map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))
          .sorted().toList();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** A copy of a bundle under another name or version: same files, new manifest. */
  private static Path rerelease(Path from, Path to, String name, String version) throws Exception {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path source : files.toList()) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    Path manifest = to.resolve("manifest.json");
    JsonObject json = new JsonObject(Files.readString(manifest, StandardCharsets.UTF_8)).put("name", name).put("version", version);
    Files.writeString(manifest, json.encodePrettily(), StandardCharsets.UTF_8);
    return to;
  }

  private static void flipOneByte(Path file) throws Exception {
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length / 2] ^= 0x5a;
    Files.write(file, bytes);
  }
}
