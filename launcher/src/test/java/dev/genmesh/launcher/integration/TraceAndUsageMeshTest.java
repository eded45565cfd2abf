package dev.genmesh.launcher.integration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.launcher.Mesh;
import dev.genmesh.launcher.tracing.Tracing;
import dev.genmesh.testkit.Waits;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16 items 6-7 against a real one-region mesh (embedded stores, region node, CPU worker,
 * edge): one trace per generation with spans of edge, region and worker, exported to an in-memory
 * exporter; a usage event per completed generation read over the TCP bridge by the Node example
 * consumer (docs/examples/usage-consumer.js); an address outside the allow-list refused.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TraceAndUsageMeshTest {
  private static final long WAIT_S = 120;
  private static final Path CONSUMER = Path.of("..", "docs", "examples", "usage-consumer.js").toAbsolutePath().normalize();

  @TempDir static Path dataDir;
  private final InMemorySpanExporter spans = InMemorySpanExporter.create();
  private OpenTelemetrySdk sdk;
  private Mesh mesh;
  private Vertx vertx;
  private WebClient http;
  private int bridgePort;
  private final List<Process> consumers = new ArrayList<>();

  @BeforeAll
  void startMesh() throws IOException {
    sdk = OpenTelemetrySdk.builder()
        .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
        .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
        .build();
    Tracing.install(sdk);
    try (ServerSocket probe = new ServerSocket(0)) {
      bridgePort = probe.getLocalPort();
    }
    GenmeshConfig config = ConfigLoader.load(null, Map.of(
        "GENMESH_WORKER__CLAIM_POLL_MS", "200",
        "GENMESH_EDGE__REGION_HEALTH_INTERVAL_MS", "500",
        "GENMESH_BRIDGE__ENABLED", "true",
        "GENMESH_BRIDGE__USAGE_RESEND_AFTER_MS", "1000",
        "GENMESH_BRIDGE__PORTS__US_WEST", String.valueOf(bridgePort)));
    config = config.withRegions(Map.of("us-west", config.region("us-west")));
    mesh = Mesh.start(config, new Mesh.Options(dataDir, true, false, "127.0.0.1"), step -> {});
    vertx = Vertx.vertx();
    http = WebClient.create(vertx);
  }

  @AfterAll
  void stopMesh() {
    consumers.forEach(Process::destroyForcibly);
    if (vertx != null) {
      Waits.await(30, vertx.close());
    }
    if (mesh != null) {
      mesh.close();
    }
    Tracing.install(null);
    if (sdk != null) {
      sdk.close();
    }
  }

  @Test
  void aUsageEventArrivesOverTheBridgeForEachCompletedGenerationAndOneTraceSpansEdgeRegionAndWorker() throws Exception {
    List<String> lines = new CopyOnWriteArrayList<>();
    Process consumer = consumer(lines, "--count", "3");
    Waits.eventually(30, () -> lines.stream().anyMatch(l -> l.contains("\"ready\"")), "the consumer registered");

    List<String> ids = List.of(submit("a lighthouse at dusk", 7), submit("a fox in snow", 8));
    String blocked = submit("gore at the lighthouse", 9); // generated, then blocked by the safety check: failed
    for (String id : ids) {
      Waits.eventually(WAIT_S, () -> "completed".equals(status(id)), id + " completed");
    }
    Waits.eventually(WAIT_S, () -> "failed".equals(status(blocked)), blocked + " failed");

    assertThat(consumer.waitFor(WAIT_S, TimeUnit.SECONDS)).as("the consumer exits after 3 events: " + lines).isTrue();
    assertThat(consumer.exitValue()).isZero();
    List<JsonObject> usage = lines.stream().filter(l -> l.contains("request_id")).map(JsonObject::new).toList();
    assertThat(usage).extracting(u -> u.getString("request_id")).containsExactlyInAnyOrder(ids.get(0), ids.get(1), blocked);
    for (JsonObject event : usage) {
      boolean failed = event.getString("request_id").equals(blocked);
      assertThat(event.getString("status")).isEqualTo(failed ? "failed" : "completed");
      assertThat(event.getString("region")).isEqualTo("us-west");
      assertThat(event.getString("user")).isEqualTo("anonymous");
      assertThat(event.getString("tier")).isEqualTo("turbo");
      assertThat(event.getString("model")).isEqualTo("genmesh-tiny");
      assertThat(event.getString("gpu_class")).isNotBlank();
      assertThat(event.getDouble("gpu_seconds")).as("the denoising ran for the blocked one too").isPositive();
      assertThat(event.getInteger("images")).isEqualTo(failed ? 0 : 1);
      assertThat(event.getString("error_code")).isEqualTo(failed ? "safety_blocked" : null);
      assertThat(event.getString("dedupe_key")).isEqualTo(event.getString("request_id"));
    }

    for (String id : ids) {
      checkTrace(id);
    }

    // A node that died between publishing and marking: the sweep sends the event again.
    Waits.eventually(30, () -> sql("SELECT count(*) FROM requests WHERE usage_published_at IS NOT NULL AND id IN ('"
        + ids.get(0) + "', '" + ids.get(1) + "')") == 2, "both usage events marked published");
    List<String> again = new CopyOnWriteArrayList<>();
    Process second = consumer(again, "--count", "1");
    Waits.eventually(30, () -> again.stream().anyMatch(l -> l.contains("\"ready\"")), "the second consumer registered");
    assertThat(sql("UPDATE requests SET usage_published_at = NULL WHERE id = '" + ids.get(0) + "'")).isEqualTo(1);
    assertThat(second.waitFor(30, TimeUnit.SECONDS)).as("the event is sent again: " + again).isTrue();
    assertThat(again.stream().filter(l -> l.contains("request_id")).map(JsonObject::new).toList())
        .singleElement().satisfies(u -> assertThat(u.getString("request_id")).isEqualTo(ids.get(0)));
  }

  @Test
  void anAddressOutsideTheAllowListIsRefused() throws Exception {
    List<String> lines = new CopyOnWriteArrayList<>();
    consumer(lines, "--address", "genmesh.us-west.events");
    Waits.eventually(30, () -> lines.stream().anyMatch(l -> l.contains("\"ready\"")), "the consumer was answered");
    assertThat(lines).contains("{\"error\":\"access_denied\"}");
  }

  /** Edge server span (the root) → edge client span → region server span → worker's denoise → result message → safety check. */
  private void checkTrace(String id) {
    Waits.eventually(30, () -> spans.getFinishedSpanItems().stream().anyMatch(s -> s.getName().equals("safety.check")
        && id.equals(s.getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey("genmesh.request_id")))),
        "the safety check span of " + id);
    SpanData denoise = only(s -> s.getName().startsWith("denoise ") && id.equals(requestId(s)));
    String traceId = denoise.getTraceId();
    List<SpanData> trace = spans.getFinishedSpanItems().stream().filter(s -> s.getTraceId().equals(traceId)).toList();

    SpanData regionServer = byId(trace, denoise.getParentSpanId());
    assertThat(regionServer.getKind()).isEqualTo(SpanKind.SERVER);
    SpanData edgeClient = byId(trace, regionServer.getParentSpanId());
    assertThat(edgeClient.getKind()).isEqualTo(SpanKind.CLIENT);
    SpanData edgeServer = byId(trace, edgeClient.getParentSpanId());
    assertThat(edgeServer.getKind()).isEqualTo(SpanKind.SERVER);
    assertThat(edgeServer.getParentSpanContext().isValid()).as("the edge's server span is the root").isFalse();
    assertThat(denoise.getEvents()).as("one event per denoising step").hasSize(4);

    SpanData safety = only(s -> s.getName().equals("safety.check") && id.equals(requestId(s)));
    assertThat(safety.getTraceId()).isEqualTo(traceId);
    SpanData resultMessage = byId(trace, safety.getParentSpanId());
    assertThat(resultMessage.getParentSpanId()).as("the result message is the worker's").isEqualTo(denoise.getSpanId());
  }

  private static String requestId(SpanData span) {
    return span.getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey("genmesh.request_id"));
  }

  private SpanData only(java.util.function.Predicate<SpanData> which) {
    List<SpanData> found = spans.getFinishedSpanItems().stream().filter(which).toList();
    assertThat(found).hasSize(1);
    return found.get(0);
  }

  private static SpanData byId(List<SpanData> trace, String spanId) {
    return trace.stream().filter(s -> s.getSpanId().equals(spanId)).findFirst()
        .orElseThrow(() -> new AssertionError("no span " + spanId + " in the trace: " + trace));
  }

  /** A count or an update count in us-west's request log. */
  private long sql(String statement) {
    String url = "jdbc:postgresql://127.0.0.1:" + mesh.stores().postgresPort("us-west") + "/"
        + mesh.config().region("us-west").postgres().database();
    try (Connection c = DriverManager.getConnection(url, "postgres", "")) {
      if (statement.startsWith("UPDATE")) {
        return c.createStatement().executeUpdate(statement);
      }
      try (ResultSet rows = c.createStatement().executeQuery(statement)) {
        rows.next();
        return rows.getLong(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(statement, e);
    }
  }

  private Process consumer(List<String> lines, String... more) throws IOException {
    List<String> command = new ArrayList<>(List.of("node", CONSUMER.toString(), "--host", "127.0.0.1", "--port",
        String.valueOf(bridgePort)));
    command.addAll(List.of(more));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    consumers.add(process);
    Thread reader = new Thread(() -> {
      try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = out.readLine(); line != null; line = out.readLine()) {
          lines.add(line);
        }
      } catch (IOException ignored) {
        // the process ended
      }
    }, "usage-consumer-output");
    reader.setDaemon(true);
    reader.start();
    return process;
  }

  private String submit(String prompt, int seed) {
    JsonObject body = new JsonObject().put("prompt", prompt).put("seed", seed).put("steps", 4).put("tier", "turbo");
    var response = Waits.await(30, http.post(mesh.edgePort(), "127.0.0.1", "/v1/generations").sendJsonObject(body));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(202);
    return response.bodyAsJsonObject().getString("id");
  }

  private String status(String id) {
    var response = Waits.await(30, http.get(mesh.edgePort(), "127.0.0.1", "/v1/generations/" + id).send());
    return response.bodyAsJsonObject().getString("status");
  }
}
