package dev.genmesh.config.impl;

import dev.genmesh.config.ConfigException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A typed view over one map of the parsed YAML tree that knows its dotted path, so every
 * error names the key. {@link #finish()} rejects keys nobody read (typos).
 */
public final class Node {
  private final String path;
  private final Map<String, Object> values;
  private final Set<String> read = new HashSet<>();

  public Node(String path, Map<String, Object> values) {
    this.path = path;
    this.values = values == null ? Map.of() : values;
  }

  public String path() {
    return path;
  }

  public String keyPath(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  private Object raw(String key) {
    read.add(key);
    return values.get(key);
  }

  private Object required(String key) {
    Object value = raw(key);
    if (value == null) {
      throw new ConfigException(keyPath(key), "is required");
    }
    return value;
  }

  public String string(String key) {
    Object value = required(key);
    if (value instanceof Map || value instanceof List) {
      throw new ConfigException(keyPath(key), "must be a text value");
    }
    return value.toString();
  }

  public String string(String key, String fallback) {
    return values.get(key) == null ? markRead(key, fallback) : string(key);
  }

  public long integer(String key, long min, long max) {
    Object value = required(key);
    long number;
    if (value instanceof Number n && (n instanceof Integer || n instanceof Long)) {
      number = n.longValue();
    } else {
      try {
        number = Long.parseLong(value.toString().trim());
      } catch (NumberFormatException e) {
        throw new ConfigException(keyPath(key), "must be a whole number, got '" + value + "'");
      }
    }
    if (number < min || number > max) {
      throw new ConfigException(keyPath(key), "must be between " + min + " and " + max + ", got " + number);
    }
    return number;
  }

  public int integer(String key, int min, int max) {
    return (int) integer(key, (long) min, (long) max);
  }

  public int integer(String key, int min, int max, int fallback) {
    return values.get(key) == null ? markRead(key, fallback) : integer(key, min, max);
  }

  public long integer(String key, long min, long max, long fallback) {
    return values.get(key) == null ? markRead(key, fallback) : integer(key, min, max);
  }

  public double decimal(String key, double min, double max) {
    Object value = required(key);
    double number;
    if (value instanceof Number n) {
      number = n.doubleValue();
    } else {
      try {
        number = Double.parseDouble(value.toString().trim());
      } catch (NumberFormatException e) {
        throw new ConfigException(keyPath(key), "must be a number, got '" + value + "'");
      }
    }
    if (Double.isNaN(number) || number < min || number > max) {
      throw new ConfigException(keyPath(key), "must be between " + min + " and " + max + ", got " + number);
    }
    return number;
  }

  /** The number under {@code key}, or {@code fallback} when the key is absent. */
  public double decimal(String key, double min, double max, double fallback) {
    return values.get(key) == null ? markRead(key, fallback) : decimal(key, min, max);
  }

  /** True when the key is present (not null). Does not count as reading it. */
  public boolean has(String key) {
    return values.get(key) != null;
  }

  public boolean bool(String key, boolean fallback) {
    Object value = raw(key);
    if (value == null) {
      return fallback;
    }
    if (value instanceof Boolean b) {
      return b;
    }
    String text = value.toString().trim().toLowerCase();
    if (text.equals("true") || text.equals("false")) {
      return Boolean.parseBoolean(text);
    }
    throw new ConfigException(keyPath(key), "must be true or false, got '" + value + "'");
  }

  public List<String> strings(String key) {
    Object value = required(key);
    if (!(value instanceof List<?> list)) {
      throw new ConfigException(keyPath(key), "must be a list");
    }
    List<String> out = new ArrayList<>();
    for (Object item : list) {
      if (item == null || item instanceof Map || item instanceof List) {
        throw new ConfigException(keyPath(key), "must be a list of text values");
      }
      out.add(item.toString());
    }
    return List.copyOf(out);
  }

  /** The list under {@code key}, or {@code fallback} when the key is absent. */
  public List<String> strings(String key, List<String> fallback) {
    return values.get(key) == null ? markRead(key, fallback) : strings(key);
  }

  @SuppressWarnings("unchecked")
  public Node child(String key) {
    Object value = required(key);
    if (!(value instanceof Map)) {
      throw new ConfigException(keyPath(key), "must be a section (a map of keys)");
    }
    return new Node(keyPath(key), (Map<String, Object>) value);
  }

  /** Reads every entry of a section whose keys are names (regions, models, GPUs), in file order. */
  public <T> Map<String, T> entries(String key, Function<Node, T> reader) {
    Node section = child(key);
    Map<String, T> out = new LinkedHashMap<>();
    for (String name : section.values.keySet()) {
      out.put(name, reader.apply(section.child(name)));
    }
    if (out.isEmpty()) {
      throw new ConfigException(keyPath(key), "must have at least one entry");
    }
    return out;
  }

  /** As {@link #entries}, but the section may be empty or absent (then: no entries). */
  public <T> Map<String, T> optionalEntries(String key, Function<Node, T> reader) {
    if (values.get(key) == null) {
      return markRead(key, new LinkedHashMap<>());
    }
    Node section = child(key);
    Map<String, T> out = new LinkedHashMap<>();
    for (String name : section.values.keySet()) {
      out.put(name, reader.apply(section.child(name)));
    }
    return out;
  }

  /** A section of name → whole number, each within [min, max]. */
  public Map<String, Long> integers(String key, long min, long max) {
    Node section = child(key);
    Map<String, Long> out = new LinkedHashMap<>();
    for (String name : section.values.keySet()) {
      out.put(name, section.integer(name, min, max));
    }
    return out;
  }

  /** A section of name → text value; may be empty or absent. */
  public Map<String, String> texts(String key) {
    if (values.get(key) == null) {
      return markRead(key, new LinkedHashMap<>());
    }
    Node section = child(key);
    Map<String, String> out = new LinkedHashMap<>();
    for (String name : section.values.keySet()) {
      out.put(name, section.string(name));
    }
    return out;
  }

  /** A section of name → list of text values. */
  public Map<String, List<String>> lists(String key) {
    Node section = child(key);
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (String name : section.values.keySet()) {
      out.put(name, section.strings(name));
    }
    return out;
  }

  /** A section of name → number, each within [min, max]. */
  public Map<String, Double> decimals(String key, double min, double max) {
    Node section = child(key);
    Map<String, Double> out = new LinkedHashMap<>();
    for (String name : section.values.keySet()) {
      out.put(name, section.decimal(name, min, max));
    }
    return out;
  }

  /** The last segment of this node's path: the entry name for named sections. */
  public String name() {
    return path.substring(path.lastIndexOf('.') + 1);
  }

  public void finish() {
    for (String key : values.keySet()) {
      if (!read.contains(key)) {
        throw new ConfigException(keyPath(key), "is not a known setting");
      }
    }
  }

  private <T> T markRead(String key, T fallback) {
    read.add(key);
    return fallback;
  }
}
