package dev.genmesh.launcher.logging;

import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.event.Level;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.BasicMDCAdapter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The {@code genmesh} command's SLF4J backend (docs/architecture.md, "Tracing"): slf4j-simple's
 * levels ({@code simplelogger.properties}, the same keys) and, by default, its line format, plus the
 * trace id of the request being handled on every line logged while a traced request is current,
 * and JSON lines with {@code GENMESH_LOG_FORMAT=json}. Chosen by {@code Main} through the
 * {@code slf4j.provider} property (not a services file), so tests keep slf4j-simple.
 *
 * <p>The format is read from the environment, not the configuration: logging starts before the
 * configuration is loaded.
 */
public final class TraceLogProvider implements SLF4JServiceProvider {
  static final String PREFIX = "org.slf4j.simpleLogger.";
  private final Properties settings = new Properties();
  private final ConcurrentMap<String, Logger> loggers = new ConcurrentHashMap<>();
  private final BasicMarkerFactory markers = new BasicMarkerFactory();
  private final BasicMDCAdapter mdc = new BasicMDCAdapter();
  private boolean json;

  @Override
  public void initialize() {
    try (InputStream in = TraceLogProvider.class.getResourceAsStream("/simplelogger.properties")) {
      if (in != null) {
        settings.load(in);
      }
    } catch (IOException e) {
      System.err.println("genmesh: simplelogger.properties not read (" + e + "); logging at info");
    }
    System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith(PREFIX))
        .forEach(k -> settings.setProperty(k, System.getProperty(k)));
    String format = System.getenv().getOrDefault("GENMESH_LOG_FORMAT", System.getProperty("genmesh.log.format", "text"));
    json = "json".equalsIgnoreCase(format.trim());
  }

  @Override
  public ILoggerFactory getLoggerFactory() {
    return name -> loggers.computeIfAbsent(name, n -> new TraceLogger(n, levelOf(n), json, System.err));
  }

  /** The most specific {@code log.<prefix>} setting for {@code name}, else {@code defaultLogLevel}. */
  Level levelOf(String name) {
    String key = name;
    while (true) {
      String value = settings.getProperty(PREFIX + "log." + key);
      if (value != null) {
        return parse(value);
      }
      int dot = key.lastIndexOf('.');
      if (dot < 0) {
        return parse(settings.getProperty(PREFIX + "defaultLogLevel", "info"));
      }
      key = key.substring(0, dot);
    }
  }

  private static Level parse(String text) {
    String level = text.trim().toUpperCase(Locale.ROOT);
    return switch (level) {
      case "OFF" -> null;
      case "WARNING" -> Level.WARN;
      default -> {
        try {
          yield Level.valueOf(level);
        } catch (IllegalArgumentException e) {
          yield Level.INFO;
        }
      }
    };
  }

  @Override
  public IMarkerFactory getMarkerFactory() {
    return markers;
  }

  @Override
  public MDCAdapter getMDCAdapter() {
    return mdc;
  }

  @Override
  public String getRequestedApiVersion() {
    return "2.0.99";
  }
}
