package dev.genmesh.bench.queue;

import java.util.HashMap;
import java.util.Map;

/** {@code key=value} command-line arguments, so run.sh can pass the same settings to every side. */
final class BenchArgs {
  private final Map<String, String> values = new HashMap<>();

  BenchArgs(String[] args) {
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("expected key=value, got " + arg);
      }
      values.put(arg.substring(0, eq), arg.substring(eq + 1));
    }
  }

  String string(String key, String fallback) {
    return values.getOrDefault(key, fallback);
  }

  String required(String key) {
    String value = values.get(key);
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException("missing argument " + key + "=...");
    }
    return value;
  }

  int integer(String key, int fallback) {
    return values.containsKey(key) ? Integer.parseInt(values.get(key)) : fallback;
  }

  boolean onOff(String key, boolean fallback) {
    String value = values.get(key);
    if (value == null) {
      return fallback;
    }
    return switch (value) {
      case "on", "true" -> true;
      case "off", "false" -> false;
      default -> throw new IllegalArgumentException(key + " must be on or off, got " + value);
    };
  }
}
