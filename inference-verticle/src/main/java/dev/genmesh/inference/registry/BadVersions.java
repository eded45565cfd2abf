package dev.genmesh.inference.registry;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Model versions a worker gave up as bad (for a while), and where to roll back to from one. */
final class BadVersions {
  /** A version given up as bad is tried again after this long (someone may have repaired the registry). */
  static final long BAD_VERSION_RETRY_MS = 10 * 60_000L;

  private final Map<String, Long> badUntil = new ConcurrentHashMap<>();

  void mark(String name, String version) {
    badUntil.put(name + "@" + version, System.currentTimeMillis() + BAD_VERSION_RETRY_MS);
  }

  boolean contains(String name, String version) {
    Long until = badUntil.get(name + "@" + version);
    return until != null && until > System.currentTimeMillis();
  }

  /** The bad version's previous_version chain, then older published versions (newest first), then cached ones. */
  static List<String> rollbackCandidates(String bad, JsonObject entry, List<String> cachedOldestFirst) {
    Set<String> out = new LinkedHashSet<>();
    List<JsonObject> versions = new ArrayList<>();
    entry.getJsonArray("versions", new JsonArray()).forEach(v -> versions.add((JsonObject) v));
    for (String at = previousOf(versions, bad); at != null && out.add(at); at = previousOf(versions, at)) {
      // follow the chain
    }
    int badIndex = -1;
    for (int i = 0; i < versions.size(); i++) {
      if (bad.equals(versions.get(i).getString("version"))) {
        badIndex = i;
      }
    }
    for (int i = (badIndex < 0 ? versions.size() : badIndex) - 1; i >= 0; i--) {
      out.add(versions.get(i).getString("version"));
    }
    List<String> cached = new ArrayList<>(cachedOldestFirst);
    Collections.reverse(cached);
    out.addAll(cached);
    out.remove(bad);
    return List.copyOf(out);
  }

  private static String previousOf(List<JsonObject> versions, String version) {
    for (JsonObject v : versions) {
      if (version.equals(v.getString("version"))) {
        return v.getString("previous_version");
      }
    }
    return null;
  }
}
