package dev.genmesh.launcher.tracing;

import dev.genmesh.config.integration.TracingConfig;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.tracing.opentelemetry.OpenTelemetryOptions;
import io.vertx.tracing.opentelemetry.OpenTelemetryTracingFactory;

/**
 * The process's OpenTelemetry (docs/architecture.md, "Tracing"): one per JVM, made from
 * {@code tracing.*} when {@code otlp_endpoint} is set, registered as the global one (the services'
 * own spans use the API through it) and given to every Vert.x instance the launcher builds, so
 * that HTTP servers and clients and the event bus make spans and carry {@code traceparent}.
 * Without an endpoint nothing is installed and tracing costs nothing.
 */
public final class Tracing {
  private static OpenTelemetry installed;
  private static OpenTelemetrySdk owned;

  private Tracing() {}

  /** Installs an SDK for {@code config} unless one is installed already (several roles in one JVM). */
  public static synchronized void start(TracingConfig config, String role) {
    if (installed != null || !config.exports()) {
      return;
    }
    Resource resource = Resource.getDefault().merge(Resource.create(Attributes.of(
        io.opentelemetry.api.common.AttributeKey.stringKey("service.name"), config.serviceName() + "-" + role)));
    SdkTracerProvider traces = SdkTracerProvider.builder()
        .setResource(resource)
        .setSampler(Sampler.parentBased(new PublicApiSampler(config.samplingRatio())))
        .addSpanProcessor(BatchSpanProcessor.builder(OtlpHttpSpanExporter.builder()
            .setEndpoint(config.otlpEndpoint()).build()).build())
        .build();
    owned = OpenTelemetrySdk.builder().setTracerProvider(traces)
        .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance())).build();
    install(owned);
    Runtime.getRuntime().addShutdownHook(new Thread(Tracing::shutdown, "genmesh-tracing-flush"));
  }

  /** Uses {@code openTelemetry} from now on (tests: an SDK with an in-memory exporter); null: none. */
  public static synchronized void install(OpenTelemetry openTelemetry) {
    installed = openTelemetry;
    GlobalOpenTelemetry.resetForTest(); // the global is set once per JVM otherwise
    if (openTelemetry != null) {
      GlobalOpenTelemetry.set(openTelemetry);
    }
  }

  /** Gives {@code builder} the installed tracer (no-op when none is installed). */
  public static synchronized VertxBuilder apply(VertxBuilder builder, VertxOptions options) {
    if (installed != null) {
      options.setTracingOptions(new OpenTelemetryOptions());
      builder.withTracer(new OpenTelemetryTracingFactory(installed));
    }
    return builder.with(options);
  }

  /** Flushes and closes the SDK this class made (not one given to {@link #install}). */
  public static synchronized void shutdown() {
    if (owned != null) {
      owned.close();
      owned = null;
      install(null);
    }
  }
}
