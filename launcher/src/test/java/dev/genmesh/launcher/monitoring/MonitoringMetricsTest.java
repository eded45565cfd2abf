package dev.genmesh.launcher.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.launcher.Mesh;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The Grafana dashboard and the Prometheus alert rules under {@code k8s/monitoring/} use only
 * metrics a running mesh exports: the whole mesh in this JVM (embedded stores, three regions with
 * their autoscalers on, a CPU worker each, the edge), one generation driven through it, then the series
 * names scraped from the edge's and every worker's {@code /metrics} must hold every
 * {@code genmesh_*} and {@code vertx_*} name an expression uses (Micrometer's Prometheus names: dots to underscores,
 * {@code _total}, {@code _seconds}). The scraped names are kept in target/mesh-metrics.txt.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MonitoringMetricsTest {
  private static final long WAIT_S = 120;
  static final Path MONITORING = Path.of("..", "k8s", "monitoring").toAbsolutePath().normalize();
  private static final Pattern METRIC = Pattern.compile("\\b(genmesh|vertx)_[a-z0-9_]+");

  @TempDir static Path dataDir;
  private Mesh mesh;
  private Vertx vertx;
  private WebClient http;

  @BeforeAll
  void startMesh() {
    GenmeshConfig config = ConfigLoader.load(null, Map.of(
        "GENMESH_WORKER__CLAIM_POLL_MS", "200",
        "GENMESH_EDGE__REGION_HEALTH_INTERVAL_MS", "500",
        // The regions run their autoscaler (with the logging actuator: no worker processes here).
        "GENMESH_AUTOSCALING__ENABLED", "true",
        "GENMESH_AUTOSCALING__EVALUATION_INTERVAL_MS", "1000"));
    mesh = Mesh.start(config, new Mesh.Options(dataDir, true, false, "127.0.0.1"), step -> {});
    vertx = Vertx.vertx();
    http = WebClient.create(vertx);
  }

  @AfterAll
  void stopMesh() {
    if (vertx != null) {
      Waits.await(30, vertx.close());
    }
    if (mesh != null) {
      mesh.close();
    }
  }

  @Test
  void everyMetricTheDashboardAndTheAlertsUseIsExported() throws IOException {
    // One generation, through the OpenAI shape: it submits through the v1 API and waits for the image.
    HttpResponse<Buffer> answer = Waits.await(WAIT_S, http.post(mesh.edgePort(), "127.0.0.1", "/v1/images/generations")
        .sendJsonObject(new JsonObject().put("prompt", "a lighthouse").put("size", "256x256")
            .put("response_format", "b64_json")));
    assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(200);

    Map<String, Set<String>> used = used();
    assertThat(used).as("files under " + MONITORING).containsKeys("dashboard", "alerts");
    assertThat(used.get("dashboard")).as("metrics the dashboard uses").hasSizeGreaterThan(30);
    assertThat(used.get("alerts")).as("metrics the alert rules use").hasSizeGreaterThan(8);
    Set<String> wanted = new TreeSet<>(used.get("dashboard"));
    wanted.addAll(used.get("alerts"));
    // Some series appear with their first event (the autoscaler's first decision): scrape until
    // they are all there, then say what is missing.
    Set<String> exported = new TreeSet<>();
    try {
      Waits.eventually(60, () -> {
        exported.clear();
        exported.addAll(exported());
        return exported.containsAll(wanted);
      }, "every metric the monitoring files use is exported");
    } catch (AssertionError timedOut) {
      // the assertions below name the missing ones
    }
    Files.createDirectories(Path.of("target"));
    Files.write(Path.of("target", "mesh-metrics.txt"), exported);
    used.forEach((file, metrics) -> assertThat(metrics).as("metrics of " + file + " no running mesh exports"
        + " (all exported: target/mesh-metrics.txt)").isSubsetOf(exported));
  }

  /** Series names of the edge's and every worker's {@code /metrics} (in this JVM they share one registry). */
  private Set<String> exported() {
    Set<String> names = new TreeSet<>(names(scrape("http://127.0.0.1:" + mesh.edgePort() + "/metrics")));
    mesh.workerHttp().values().forEach(worker -> names.addAll(names(scrape(worker + "/metrics"))));
    return names;
  }

  private String scrape(String url) {
    HttpResponse<Buffer> response = Waits.await(WAIT_S, http.getAbs(url).send());
    assertThat(response.statusCode()).as(url).isEqualTo(200);
    return response.bodyAsString();
  }

  /** Series names in a Prometheus text exposition. */
  static Set<String> names(String exposition) {
    Set<String> out = new TreeSet<>();
    exposition.lines().filter(line -> !line.isBlank() && !line.startsWith("#"))
        .forEach(line -> out.add(line.split("[{ ]", 2)[0]));
    return out;
  }

  /** The {@code genmesh_*} names each monitoring file's expressions use: "dashboard" and "alerts". */
  static Map<String, Set<String>> used() throws IOException {
    Set<String> dashboard = new TreeSet<>();
    Set<String> alerts = new TreeSet<>();
    try (Stream<Path> files = Files.list(MONITORING)) {
      for (Path file : files.toList()) {
        String name = file.getFileName().toString();
        if (name.endsWith(".json")) {
          expressions(new JsonObject(Files.readString(file))).forEach(expr -> dashboard.addAll(metrics(expr)));
        } else if (name.endsWith("rules.yaml")) {
          Map<String, Object> rules = new Yaml().load(Files.readString(file));
          JsonObject doc = new JsonObject(io.vertx.core.json.Json.encode(rules));
          for (Object group : doc.getJsonArray("groups")) {
            for (Object rule : ((JsonObject) group).getJsonArray("rules")) {
              alerts.addAll(metrics(((JsonObject) rule).getString("expr")));
            }
          }
        }
      }
    }
    return Map.of("dashboard", dashboard, "alerts", alerts);
  }

  /** Every {@code expr} of a dashboard's panels (rows' nested panels too). */
  static List<String> expressions(JsonObject dashboard) {
    List<String> out = new java.util.ArrayList<>();
    collect(dashboard.getJsonArray("panels", new JsonArray()), out);
    return out;
  }

  private static void collect(JsonArray panels, List<String> out) {
    for (Object item : panels) {
      JsonObject panel = (JsonObject) item;
      for (Object target : panel.getJsonArray("targets", new JsonArray())) {
        String expr = ((JsonObject) target).getString("expr");
        if (expr != null) {
          out.add(expr);
        }
      }
      collect(panel.getJsonArray("panels", new JsonArray()), out);
    }
  }

  static Set<String> metrics(String expr) {
    Set<String> out = new TreeSet<>();
    Matcher matcher = METRIC.matcher(expr);
    while (matcher.find()) {
      out.add(matcher.group());
    }
    return out;
  }
}
