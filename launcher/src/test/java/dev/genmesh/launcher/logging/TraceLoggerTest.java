package dev.genmesh.launcher.logging;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

class TraceLoggerTest {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
  private final SdkTracerProvider tracing = SdkTracerProvider.builder()
      .addSpanProcessor(SimpleSpanProcessor.create(InMemorySpanExporter.create())).build();

  @Test
  void aLineLoggedWhileATracedRequestIsCurrentCarriesItsTraceId() {
    TraceLogger log = new TraceLogger("dev.genmesh.region.queue.impl.Retries", Level.INFO, false, out);
    log.info("[{}] queued", "usw_1");
    Span span = tracing.get("test").spanBuilder("POST").startSpan();
    try (Scope ignored = span.makeCurrent()) {
      log.info("[{}] failed after {} retries", "usw_2", 3);
    } finally {
      span.end();
    }
    log.debug("not shown at info");

    String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
    assertThat(lines).hasSize(2);
    assertThat(lines[0]).matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO Retries - \\[usw_1\\] queued");
    assertThat(lines[1]).endsWith("INFO Retries - [usw_2] failed after 3 retries trace_id="
        + span.getSpanContext().getTraceId());
  }

  @Test
  void jsonLinesCarryTheTraceAndSpanIdsAndTheError() {
    TraceLogger log = new TraceLogger("dev.genmesh.edge.EdgeVerticle", Level.INFO, true, out);
    Span span = tracing.get("test").spanBuilder("POST").startSpan();
    try (Scope ignored = span.makeCurrent()) {
      log.warn("region {} unavailable", "us-west", new IllegalStateException("boom"));
    } finally {
      span.end();
    }

    JsonObject line = new JsonObject(bytes.toString(StandardCharsets.UTF_8).strip());
    assertThat(line.getString("level")).isEqualTo("WARN");
    assertThat(line.getString("logger")).isEqualTo("dev.genmesh.edge.EdgeVerticle");
    assertThat(line.getString("message")).isEqualTo("region us-west unavailable");
    assertThat(line.getString("trace_id")).isEqualTo(span.getSpanContext().getTraceId());
    assertThat(line.getString("span_id")).isEqualTo(span.getSpanContext().getSpanId());
    assertThat(line.getString("error")).contains("IllegalStateException: boom");
  }

  @Test
  void levelsFollowSimpleloggerPropertiesMostSpecificFirst() {
    TraceLogProvider provider = new TraceLogProvider();
    provider.initialize(); // the launcher's test simplelogger.properties: info, io.vertx warn, com.hazelcast.cp error
    assertThat(provider.levelOf("dev.genmesh.region.RegionNodeVerticle")).isEqualTo(Level.INFO);
    assertThat(provider.levelOf("io.vertx.core.impl.ContextImpl")).isEqualTo(Level.WARN);
    assertThat(provider.levelOf("com.hazelcast.cp.internal.RaftService")).isEqualTo(Level.ERROR);
  }
}
