package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.launcher.CliRun;
import dev.genmesh.registry.ManifestFile;
import dev.genmesh.registry.Sha256;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The primary model registry's region node SIGKILLed (inference-verticle/MODEL.md, "Across
 * regions"): two regions as {@code genmesh region} processes, the second mirroring the first.
 * A version published with {@code genmesh model publish} reaches the mirror with the same
 * SHA-256s; once the primary is killed the mirror stays ready, keeps serving what it holds, logs
 * the outage once and counts it, and {@code model publish} refuses and says where to go.
 */
class RegistryPrimaryKilledTest {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
  private static final Pattern LISTENING = Pattern.compile("\\[genmesh] region (\\S+) listening on ([\\d.]+):(\\d+)");
  private static final List<String> JVM_OPTIONS = List.of("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
  private static final String MODEL = "m";

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;
  private FaultStores stores;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

  @AfterEach
  void stopStores() {
    if (stores != null) {
      stores.close();
    }
  }

  @Test
  void theMirrorKeepsServingAndPublishRefusesOnceThePrimaryIsKilled() throws Exception {
    stores = FaultStores.start(dir.resolve("stores"), ProcessRegion.DATABASE);
    String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 5);
    String primary = "prim-" + suffix;
    String mirror = "mirr-" + suffix;
    Path primaryData = dir.resolve("primary-data");
    ChildProcess primaryNode = region(primary, config("primary.yaml", primary, mirror, ""), primaryData);
    String primaryUrl = url(primaryNode.awaitLine(LISTENING, START_TIMEOUT));
    Path config = config("mirror.yaml", primary, mirror, primaryUrl);

    CliRun published = CliRun.of("model", "publish", "--config", config.toString(), "--data-dir", primaryData.toString(),
        "--from", bundle("1").toString());
    assertThat(published.exit()).as(published.err()).isZero();
    ChildProcess mirrorNode = region(mirror, config, dir.resolve("mirror-data"));
    String mirrorUrl = url(mirrorNode.awaitLine(LISTENING, START_TIMEOUT));
    Sleeps.until("the mirror holds and runs m 1", START_TIMEOUT, () -> "1".equals(current(mirrorUrl)) ? true : null);
    assertServesTheBundle(mirrorUrl, "1");

    primaryNode.kill();
    Sleeps.until("three failed rounds with the primary", START_TIMEOUT,
        () -> unreachableFailures(mirrorUrl) >= 3 ? true : null);

    assertThat(status(mirrorUrl + "/health/ready")).as("readiness does not depend on the primary").isEqualTo(200);
    JsonObject listing = json(mirrorUrl + "/regional/v1/models");
    assertThat(listing.getJsonObject("mirror").getString("state")).isEqualTo("primary_unreachable");
    assertThat(current(mirrorUrl)).isEqualTo("1");
    assertServesTheBundle(mirrorUrl, "1");
    assertThat(mirrorNode.lines().stream().filter(line -> line.contains("does not answer")).count())
        .as("the outage is logged once").isEqualTo(1);
    CliRun refused = CliRun.of("model", "publish", "--config", config.toString(), "--data-dir", primaryData.toString(),
        "--from", bundle("2").toString());
    assertThat(refused.exit()).isEqualTo(2);
    assertThat(refused.err()).contains("the primary registry " + primary + " (" + primaryUrl + ") does not answer")
        .contains("registry.primary");
  }

  private ChildProcess region(String name, Path config, Path data) {
    return children.java(name, JVM_OPTIONS, "dev.genmesh.launcher.Main",
        List.of("region", "--name", name, "--config", config.toString(), "--data-dir", data.toString()));
  }

  /** Both regions on the test's stores, free ports, no copies or failover; the mirror syncs every 300 ms. */
  private Path config(String file, String primary, String mirror, String primaryUrl) throws IOException {
    StringBuilder yaml = new StringBuilder("regions:\n");
    for (String region : List.of(primary, mirror)) {
      stores.objectStore().createBucket("genmesh-" + region);
      String entry = ProcessRegion.regionEntry(region, region.charAt(0) + region.substring(5), stores.postgresPort(),
          ProcessRegion.DATABASE, stores.redisPort(), 4);
      // The mirror (and the publish command) reach the primary where it listens.
      yaml.append(region.equals(primary) ? entry.replace("api_url: \"\"", "api_url: \"" + primaryUrl + "\"") : entry);
    }
    yaml.append("""
        images:
          endpoint: "%s"
          credentials_file: "%s"
          copies: {to: none}
        registry:
          primary: %s
          mirror_interval_ms: 300
        """.formatted(stores.objectStoreEndpoint(), stores.objectStore().credentialsFile(), primary));
    return Files.writeString(dir.resolve(file), yaml.toString());
  }

  /** A bundle of two random files and their manifest. */
  private Path bundle(String version) throws IOException {
    Path bundle = dir.resolve("bundle-" + version);
    Files.createDirectories(bundle.resolve("variables"));
    Random random = new Random(version.hashCode());
    for (String file : new String[] {"saved_model.pb", "variables/variables.index"}) {
      byte[] bytes = new byte[4096];
      random.nextBytes(bytes);
      Files.write(bundle.resolve(file), bytes);
    }
    JsonArray files = new JsonArray();
    ManifestFile.inventory(bundle).forEach(f -> files.add(f.toJson()));
    Files.writeString(bundle.resolve("manifest.json"),
        new JsonObject().put("name", MODEL).put("version", version).put("files", files).encodePrettily());
    return bundle;
  }

  /** A worker's fetch from the mirror: the manifest, then every file, each against the bundle's SHA-256. */
  private void assertServesTheBundle(String base, String version) throws Exception {
    String prefix = base + "/regional/v1/models/" + MODEL + "/" + version;
    for (ManifestFile file : ManifestFile.listedIn(json(prefix + "/manifest.json"))) {
      HttpResponse<byte[]> body = get(prefix + "/files/" + file.path());
      assertThat(body.statusCode()).isEqualTo(200);
      assertThat(Sha256.of(body.body())).isEqualTo(Sha256.of(dir.resolve("bundle-" + version).resolve(file.path())));
    }
  }

  private String current(String base) {
    JsonArray models = json(base + "/regional/v1/models").getJsonArray("models");
    return models.isEmpty() ? null : models.getJsonObject(0).getString("current");
  }

  private double unreachableFailures(String base) {
    Matcher counter = Pattern.compile("genmesh_registry_mirror_failures_total\\{[^}]*reason=\"unreachable\"[^}]*} (\\S+)")
        .matcher(new String(get(base + "/metrics").body(), StandardCharsets.UTF_8));
    return counter.find() ? Double.parseDouble(counter.group(1)) : 0;
  }

  private JsonObject json(String url) {
    return new JsonObject(new String(get(url).body(), StandardCharsets.UTF_8));
  }

  private int status(String url) {
    return get(url).statusCode();
  }

  private HttpResponse<byte[]> get(String url) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new AssertionError(url + " did not answer: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static String url(Matcher listening) {
    return "http://" + listening.group(2) + ":" + listening.group(3);
  }
}
