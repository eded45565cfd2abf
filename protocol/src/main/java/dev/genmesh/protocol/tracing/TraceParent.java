package dev.genmesh.protocol.tracing;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.vertx.core.eventbus.DeliveryOptions;
import java.util.HashMap;
import java.util.Map;

/**
 * A request's trace context between processes, as a W3C {@code traceparent} (docs/architecture.md,
 * "Tracing"). The edge → region hop and event-bus messages carry it as a header (Vert.x's tracer
 * does that by itself); the pull from the queue cannot, so the request log keeps the submit's and
 * the assignment hands it to the worker. Spans go to the process's OpenTelemetry (the launcher
 * registers it; without it everything here is a no-op).
 */
public final class TraceParent {
  public static final String HEADER = "traceparent";
  private static final W3CTraceContextPropagator W3C = W3CTraceContextPropagator.getInstance();
  private static final TextMapGetter<Map<String, String>> GETTER = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(Map<String, String> carrier) {
      return carrier.keySet();
    }

    @Override
    public String get(Map<String, String> carrier, String key) {
      return carrier == null ? null : carrier.get(key);
    }
  };

  private TraceParent() {}

  /** The traceparent of the current span, or null when there is none (not traced, or not sampled). */
  public static String current() {
    return of(Context.current());
  }

  /** The traceparent of {@code span}, or null when it is not a valid span. */
  public static String of(Span span) {
    return of(Context.root().with(span));
  }

  private static String of(Context context) {
    if (context == null || !Span.fromContext(context).getSpanContext().isValid()) {
      return null;
    }
    Map<String, String> carrier = new HashMap<>();
    W3C.inject(context, carrier, Map::put);
    return carrier.get(HEADER);
  }

  /** The context a traceparent names (the root context for null or a malformed one). */
  public static Context context(String traceParent) {
    return traceParent == null ? Context.root() : W3C.extract(Context.root(), Map.of(HEADER, traceParent), GETTER);
  }

  /**
   * Starts a span: a child of the current span if there is one, else of {@code fallbackParent}
   * (a stored traceparent; null: a new trace, subject to sampling).
   */
  public static Span start(String name, SpanKind kind, String fallbackParent) {
    Context parent = Span.current().getSpanContext().isValid() ? Context.current() : context(fallbackParent);
    SpanBuilder builder = tracer().spanBuilder(name).setSpanKind(kind).setParent(parent);
    return builder.startSpan();
  }

  /** {@code options} with the traceparent of {@code span} as a header (unchanged when it has none). */
  public static DeliveryOptions onMessage(DeliveryOptions options, Span span) {
    String traceParent = of(span);
    if (traceParent != null) {
      options.addHeader(HEADER, traceParent);
    }
    return options;
  }

  private static Tracer tracer() {
    return GlobalOpenTelemetry.getTracer("dev.genmesh");
  }
}
