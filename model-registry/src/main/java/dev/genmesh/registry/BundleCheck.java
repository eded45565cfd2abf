package dev.genmesh.registry;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks a model bundle before it enters a registry: a readable manifest with a valid name and
 * version, and every listed file present with the listed size and SHA-256. Its naming rules are
 * the format's, shared with the workers that pull bundles.
 */
public final class BundleCheck {
  /** The manifest's file name in a bundle's folder. */
  public static final String MANIFEST = "manifest.json";
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

  private BundleCheck() {}

  /** A model name or version: letters, digits, {@code . _ -}; never {@code CURRENT} (the pointer file). */
  public static boolean validName(String text) {
    return text != null && NAME.matcher(text).matches() && !text.equals(ModelRegistry.CURRENT);
  }

  /** A relative path inside the model folder, '/'-separated, with no way out of it. */
  public static boolean safePath(String path) {
    if (path == null || path.isEmpty() || path.length() > 1024 || path.startsWith("/") || path.contains("\\")
        || path.equals(MANIFEST)) {
      return false;
    }
    for (String segment : path.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..") || segment.chars().anyMatch(c -> c < 0x20)) {
        return false;
      }
    }
    return true;
  }

  static JsonObject readManifest(Path dir) {
    try {
      return new JsonObject(Files.readString(dir.resolve(MANIFEST), StandardCharsets.UTF_8));
    } catch (NoSuchFileException e) {
      throw new RegistryException(dir + " has no " + MANIFEST);
    } catch (IOException | DecodeException e) {
      throw new RegistryException(dir.resolve(MANIFEST) + " is unreadable: " + e.getMessage());
    }
  }

  /** The bundle's manifest, once every check passed; otherwise one exception naming every problem. */
  static JsonObject check(Path bundleDir) {
    JsonObject manifest = readManifest(bundleDir);
    List<String> problems = new ArrayList<>(structure(manifest));
    if (problems.isEmpty()) {
      problems.addAll(contents(bundleDir, manifest));
    }
    if (!problems.isEmpty()) {
      throw new RegistryException("bundle " + bundleDir + " is not publishable: " + String.join("; ", problems));
    }
    return manifest;
  }

  private static List<String> structure(JsonObject manifest) {
    List<String> problems = new ArrayList<>();
    if (!validName(value(manifest, "name"))) {
      problems.add("name must be 1-128 letters, digits, '.', '_' or '-' (got " + manifest.getValue("name") + ")");
    }
    if (!validName(value(manifest, "version"))) {
      problems.add("version must be 1-128 letters, digits, '.', '_' or '-' (got " + manifest.getValue("version") + ")");
    }
    if (!(manifest.getValue("files") instanceof JsonArray files) || files.isEmpty()) {
      problems.add("files must list the model's files");
      return problems;
    }
    Set<String> seen = new HashSet<>();
    for (Object item : files) {
      if (!(item instanceof JsonObject entry)) {
        problems.add("every files entry must be an object");
        continue;
      }
      String path = value(entry, "path");
      if (!safePath(path)) {
        problems.add("file path " + entry.getValue("path") + " is not a relative path inside the model");
      } else if (!seen.add(path)) {
        problems.add("file " + path + " is listed twice");
      }
      String sha = value(entry, "sha256");
      if (sha == null || !SHA256.matcher(sha).matches()) {
        problems.add("file " + path + " needs sha256 as 64 lowercase hex digits");
      }
      if (!(entry.getValue("size") instanceof Number size) || size.longValue() < 0) {
        problems.add("file " + path + " needs its size in bytes");
      }
    }
    return problems;
  }

  /** Each listed file under {@code dir} against its size and SHA-256. */
  static List<String> contents(Path dir, JsonObject manifest) {
    List<String> problems = new ArrayList<>();
    for (ManifestFile entry : ManifestFile.listedIn(manifest)) {
      String path = entry.path();
      Path file = dir.resolve(path);
      try {
        if (!Files.isRegularFile(file)) {
          problems.add("file " + path + " is missing");
        } else if (Files.size(file) != entry.size()) {
          problems.add("file " + path + " has " + Files.size(file) + " bytes, the manifest says " + entry.size());
        } else if (!Sha256.of(file).equals(entry.sha256())) {
          problems.add("file " + path + " does not match its SHA-256");
        }
      } catch (IOException e) {
        problems.add("file " + path + " is unreadable: " + e.getMessage());
      }
    }
    return problems;
  }

  private static String value(JsonObject json, String key) {
    return json.getValue(key) instanceof String text ? text : null;
  }
}
