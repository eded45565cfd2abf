package dev.genmesh.launcher.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.integration.TracingConfig;
import dev.genmesh.testkit.Waits;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.trace.SpanKind;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code tracing.otlp_endpoint}: spans leave the process over OTLP/HTTP, sampled by {@code sampling_ratio}. */
class TracingExportTest {
  private final Vertx vertx = Vertx.vertx();
  private final List<String> posts = new CopyOnWriteArrayList<>();
  private HttpServer collector;

  @BeforeEach
  void startCollector() {
    collector = Waits.await(vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
      posts.add(request.method() + " " + request.path() + " " + request.getHeader("Content-Type") + " "
          + body.toString(StandardCharsets.ISO_8859_1));
      request.response().setStatusCode(200).putHeader("Content-Type", "application/x-protobuf").end(Buffer.buffer());
    })).listen(0, "127.0.0.1"));
  }

  @AfterEach
  void stop() {
    Tracing.shutdown();
    Waits.await(vertx.close());
  }

  @Test
  void spansAreExportedOverOtlpHttpToTheConfiguredEndpoint() {
    Tracing.start(config(1.0), "region");
    GlobalOpenTelemetry.getTracer("test").spanBuilder("denoise genmesh-tiny").startSpan().end();
    Tracing.shutdown(); // flushes the batch

    assertThat(posts).singleElement().satisfies(post -> assertThat(post)
        .startsWith("POST /v1/traces application/x-protobuf")
        .contains("denoise genmesh-tiny")
        .contains("genmesh-region"));
  }

  @Test
  void aSamplingRatioOfZeroKeepsNoNewTrace() {
    Tracing.start(config(0.0), "edge");
    GlobalOpenTelemetry.getTracer("test").spanBuilder("POST").startSpan().end();
    Tracing.shutdown();

    assertThat(posts).isEmpty();
  }

  @Test
  void onlyPublicApiRequestsStartATrace() {
    Tracing.start(config(1.0), "edge");
    var tracer = GlobalOpenTelemetry.getTracer("test");
    tracer.spanBuilder("GET").setSpanKind(SpanKind.SERVER).setAttribute("url.path", "/health/ready").startSpan().end();
    tracer.spanBuilder("POST").setSpanKind(SpanKind.SERVER).setAttribute("url.path", "/v1/generations").startSpan().end();
    Tracing.shutdown();

    assertThat(posts).singleElement().satisfies(post -> assertThat(post).contains("/v1/generations")
        .doesNotContain("/health/ready"));
  }

  private TracingConfig config(double ratio) {
    return new TracingConfig("http://127.0.0.1:" + collector.actualPort() + "/v1/traces", ratio, "genmesh");
  }
}
