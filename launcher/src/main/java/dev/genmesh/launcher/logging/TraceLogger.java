package dev.genmesh.launcher.logging;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/**
 * One logger of {@link TraceLogProvider}. The trace id comes from the current OpenTelemetry span,
 * which Vert.x keeps per request context (not per thread): a line logged in any callback of a
 * traced request carries that request's trace id, with no MDC to set and clear on event loops.
 */
final class TraceLogger extends LegacyAbstractLogger {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

  private final Level threshold; // null: off
  private final boolean json;
  private final PrintStream out;
  private final String shortName;

  TraceLogger(String name, Level threshold, boolean json, PrintStream out) {
    this.name = name;
    this.threshold = threshold;
    this.json = json;
    this.out = out;
    this.shortName = name.substring(name.lastIndexOf('.') + 1);
  }

  private boolean enabled(Level level) {
    return threshold != null && level.toInt() >= threshold.toInt();
  }

  @Override
  public boolean isTraceEnabled() {
    return enabled(Level.TRACE);
  }

  @Override
  public boolean isDebugEnabled() {
    return enabled(Level.DEBUG);
  }

  @Override
  public boolean isInfoEnabled() {
    return enabled(Level.INFO);
  }

  @Override
  public boolean isWarnEnabled() {
    return enabled(Level.WARN);
  }

  @Override
  public boolean isErrorEnabled() {
    return enabled(Level.ERROR);
  }

  @Override
  protected String getFullyQualifiedCallerName() {
    return null;
  }

  @Override
  protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args, Throwable thrown) {
    Instant now = Instant.now();
    var formatted = MessageFormatter.basicArrayFormat(pattern, args);
    String message = formatted == null ? String.valueOf(pattern) : formatted;
    SpanContext span = Span.current().getSpanContext();
    String line = json ? json(now, level, message, span, thrown) : text(now, level, message, span);
    synchronized (out) {
      out.println(line);
      if (!json && thrown != null) {
        thrown.printStackTrace(out);
      }
      out.flush();
    }
  }

  /** slf4j-simple's line ({@code HH:mm:ss.SSS LEVEL Name - message}), with {@code trace_id=} when traced. */
  private String text(Instant now, Level level, String message, SpanContext span) {
    String line = TIME.format(now) + ' ' + level.name() + ' ' + shortName + " - " + message;
    return span.isValid() ? line + " trace_id=" + span.getTraceId() : line;
  }

  private String json(Instant now, Level level, String message, SpanContext span, Throwable thrown) {
    JsonObject line = new JsonObject().put("time", now.toString()).put("level", level.name()).put("logger", name)
        .put("thread", Thread.currentThread().getName()).put("message", message);
    if (span.isValid()) {
      line.put("trace_id", span.getTraceId()).put("span_id", span.getSpanId());
    }
    if (thrown != null) {
      StringWriter trace = new StringWriter();
      thrown.printStackTrace(new PrintWriter(trace));
      line.put("error", trace.toString());
    }
    return line.encode();
  }
}
