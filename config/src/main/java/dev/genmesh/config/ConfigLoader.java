package dev.genmesh.config;

import dev.genmesh.config.impl.Node;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Resolves configuration once: the bundled defaults (the design numbers), then an optional
 * YAML file merged over them, then environment overrides.
 *
 * <p>An environment variable {@code GENMESH_A__B__C=value} sets key {@code a.b.c}; segments
 * are separated by a double underscore and compared case-insensitively, with {@code -} and
 * {@code _} alike ({@code GENMESH_REGIONS__US_WEST__HTTP_PORT=9000}). The value is read as
 * YAML, so numbers, booleans and {@code [a, b]} lists work.
 */
public final class ConfigLoader {
  public static final String ENV_PREFIX = "GENMESH_";
  static final String DEFAULTS = "/dev/genmesh/config/genmesh-defaults.yaml";

  private ConfigLoader() {}

  public static GenmeshConfig defaults() {
    return load(null, Map.of());
  }

  /** Loads defaults, then {@code file} (may be null), then the overrides found in {@code env}. */
  public static GenmeshConfig load(Path file, Map<String, String> env) {
    GenmeshConfig config = GenmeshConfig.read(new Node("", tree(file, env)));
    // Secrets stay out of the settings tree (a worker's config file is written from it).
    return config.withImages(config.images().withKeysFrom(env));
  }

  /**
   * The settings {@link #load} reads, as a fresh mutable YAML tree (maps, lists, scalars): for a
   * process that hands its configuration on to a child (a YAML file of this tree loads to the same).
   */
  public static Map<String, Object> tree(Path file, Map<String, String> env) {
    Map<String, Object> tree = readDefaults();
    if (file != null) {
      deepMerge(tree, readFile(file, "config file"));
    }
    applyEnv(tree, env);
    return tree;
  }

  private static Map<String, Object> readDefaults() {
    try (InputStream in = ConfigLoader.class.getResourceAsStream(DEFAULTS)) {
      if (in == null) {
        throw new IllegalStateException("bundled defaults missing: " + DEFAULTS);
      }
      return asMap("(defaults)", yaml().load(in));
    } catch (IOException e) {
      throw new IllegalStateException("cannot read bundled defaults", e);
    }
  }

  /** A YAML file's map of settings ({@code what} names it in the error when it is missing). */
  public static Map<String, Object> readFile(Path file, String what) {
    if (!Files.isRegularFile(file)) {
      throw new ConfigException(file.toString(), what + " not found");
    }
    try {
      Object parsed = yaml().load(Files.readString(file));
      return parsed == null ? new LinkedHashMap<>() : asMap(file.toString(), parsed);
    } catch (YAMLException e) {
      throw new ConfigException(file.toString(), "is not valid YAML: " + e.getMessage());
    } catch (IOException e) {
      throw new ConfigException(file.toString(), "cannot be read: " + e.getMessage());
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(String where, Object parsed) {
    if (!(parsed instanceof Map)) {
      throw new ConfigException(where, "must hold a map of settings at the top level");
    }
    return (Map<String, Object>) parsed;
  }

  @SuppressWarnings("unchecked")
  static void deepMerge(Map<String, Object> base, Map<String, Object> over) {
    over.forEach((key, value) -> {
      Object existing = base.get(key);
      if (existing instanceof Map && value instanceof Map) {
        deepMerge((Map<String, Object>) existing, (Map<String, Object>) value);
      } else {
        base.put(key, value);
      }
    });
  }

  @SuppressWarnings("unchecked")
  static void applyEnv(Map<String, Object> tree, Map<String, String> env) {
    // Sorted so the outcome does not depend on the environment's iteration order.
    for (Map.Entry<String, String> var : new TreeMap<>(env).entrySet()) {
      String name = var.getKey();
      if (!name.startsWith(ENV_PREFIX) || !name.contains("__")) {
        continue;
      }
      String[] segments = name.substring(ENV_PREFIX.length()).split("__");
      Map<String, Object> level = tree;
      StringBuilder path = new StringBuilder();
      for (int i = 0; i < segments.length; i++) {
        String key = matchKey(level, segments[i]);
        path.append(path.length() == 0 ? "" : ".").append(key);
        if (i == segments.length - 1) {
          level.put(key, parseValue(path.toString(), var.getValue()));
        } else {
          Object next = level.get(key);
          if (next != null && !(next instanceof Map)) {
            throw new ConfigException(path.toString(), "is a value, so " + name + " cannot set a key below it");
          }
          if (next == null) {
            next = new LinkedHashMap<String, Object>();
            level.put(key, next);
          }
          level = (Map<String, Object>) next;
        }
      }
    }
  }

  private static String matchKey(Map<String, Object> level, String segment) {
    String wanted = normalise(segment);
    for (String key : level.keySet()) {
      if (normalise(key).equals(wanted)) {
        return key;
      }
    }
    return segment.toLowerCase(Locale.ROOT);
  }

  private static String normalise(String key) {
    return key.toLowerCase(Locale.ROOT).replace('-', '_');
  }

  private static Object parseValue(String path, String text) {
    try {
      Object value = yaml().load(text);
      return value == null ? "" : value;
    } catch (YAMLException e) {
      throw new ConfigException(path, "environment value is not valid YAML: " + e.getMessage());
    }
  }

  private static Yaml yaml() {
    return new Yaml(new SafeConstructor(new LoaderOptions()));
  }
}
