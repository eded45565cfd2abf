package dev.genmesh.edge.impl;

import dev.genmesh.config.ModelConfig;
import dev.genmesh.edge.regions.impl.RegionClient;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models users can ask for (the configured ones) with what the regions' registries say
 * about them: published versions, the current one per region, and the capabilities of the
 * current version's manifest. Merged from every region that answers, kept for
 * {@code registry.catalog_cache_ms}; built from configuration when no region answers.
 */
public final class ModelCatalog {
  private static final Logger LOG = LoggerFactory.getLogger(ModelCatalog.class);

  /** What the registries say about one model's versions. */
  public record Versions(Set<String> published, Set<String> current) {}

  private record Snapshot(long atNanos, JsonObject body, Map<String, Versions> versions) {}

  private final Map<String, ModelConfig> configured;
  private final List<RegionClient> regions;
  private final long cacheNanos;
  private volatile Snapshot snapshot;
  private Future<Snapshot> refreshing;

  /** @param regions in preference order: the first region that names a current version describes the model */
  public ModelCatalog(Map<String, ModelConfig> configured, List<RegionClient> regions, long cacheMs) {
    this.configured = configured;
    this.regions = List.copyOf(regions);
    this.cacheNanos = cacheMs * 1_000_000L;
  }

  /** The body of {@code GET /v1/models}, from cache or fresh. Never fails. Call on the event loop. */
  public Future<JsonObject> listing() {
    return fresh().map(Snapshot::body);
  }

  /** What the last refresh learnt about a model's versions; null when no registry described it. */
  public Versions versions(String model) {
    Snapshot current = snapshot;
    return current == null ? null : current.versions().get(model);
  }

  /** Refreshes when the cache is older than {@code registry.catalog_cache_ms}; concurrent callers share one refresh. */
  public Future<Void> refreshIfStale() {
    return fresh().mapEmpty();
  }

  private Future<Snapshot> fresh() {
    Snapshot current = snapshot;
    if (current != null && System.nanoTime() - current.atNanos() < cacheNanos) {
      return Future.succeededFuture(current);
    }
    if (refreshing == null) {
      List<Future<HttpResponse<Buffer>>> calls = new ArrayList<>();
      regions.forEach(region -> calls.add(region.models()));
      refreshing = Future.join(calls).transform(ignored -> {
        Snapshot next = merge(calls);
        snapshot = next;
        refreshing = null;
        return Future.succeededFuture(next);
      });
    }
    return refreshing;
  }

  private Snapshot merge(List<Future<HttpResponse<Buffer>>> calls) {
    Map<String, JsonObject> listings = new LinkedHashMap<>();
    for (int i = 0; i < calls.size(); i++) {
      Future<HttpResponse<Buffer>> call = calls.get(i);
      String region = regions.get(i).name();
      JsonObject body = call.succeeded() && call.result().statusCode() == 200 ? GenerationRoutes.parse(call.result().body()) : null;
      if (body != null && body.getValue("models") instanceof JsonArray) {
        listings.put(region, body);
      } else {
        LOG.debug("model listing of region {} unavailable: {}", region,
            call.failed() ? call.cause().toString() : "status " + call.result().statusCode());
      }
    }
    JsonArray models = new JsonArray();
    Map<String, Versions> versions = new LinkedHashMap<>();
    for (ModelConfig model : configured.values()) {
      JsonObject merged = mergeModel(model, listings);
      models.add(merged);
      if ("registry".equals(merged.getString("source"))) {
        Set<String> current = new LinkedHashSet<>();
        merged.getJsonObject("regions").forEach(e -> {
          String version = ((JsonObject) e.getValue()).getString("current");
          if (version != null) {
            current.add(version);
          }
        });
        Set<String> published = new LinkedHashSet<>();
        merged.getJsonArray("versions").forEach(v -> published.add((String) v));
        versions.put(model.name(), new Versions(Set.copyOf(published), Set.copyOf(current)));
      }
    }
    JsonObject body = new JsonObject()
        .put("models", models)
        .put("source", listings.isEmpty() ? "config" : "registry")
        .put("regions", new JsonArray(new ArrayList<>(listings.keySet())));
    return new Snapshot(System.nanoTime(), body, versions);
  }

  /** One model: versions and current per region from the registries, capabilities from the current manifest. */
  private static JsonObject mergeModel(ModelConfig model, Map<String, JsonObject> listings) {
    Set<String> published = new LinkedHashSet<>();
    JsonObject perRegion = new JsonObject();
    String currentVersion = null;
    JsonObject currentManifest = null;
    for (Map.Entry<String, JsonObject> listing : listings.entrySet()) {
      JsonObject entry = find(listing.getValue(), model.name());
      if (entry == null) {
        continue;
      }
      JsonArray names = new JsonArray();
      String current = entry.getString("current");
      for (Object item : entry.getJsonArray("versions", new JsonArray())) {
        JsonObject version = (JsonObject) item;
        String name = version.getString("version");
        names.add(name);
        published.add(name);
        if (currentManifest == null && name != null && name.equals(current)) {
          currentVersion = current;
          currentManifest = version.getJsonObject("manifest", new JsonObject());
        }
      }
      perRegion.put(listing.getKey(), new JsonObject().put("current", current).put("versions", names));
    }
    boolean fromRegistry = !published.isEmpty();
    JsonObject manifest = currentManifest == null ? new JsonObject() : currentManifest;
    return new JsonObject()
        .put("name", model.name())
        .put("current_version", fromRegistry ? currentVersion : model.version())
        .put("versions", fromRegistry ? new JsonArray(new ArrayList<>(published)) : new JsonArray().add(model.version()))
        .put("regions", perRegion)
        .put("request_classes", nonEmpty(manifest.getJsonArray("request_classes"), new JsonArray(model.requestClasses())))
        .put("width", narrowed(manifest.getJsonObject("width"), model.minSize(), model.maxSize(), model.sizeMultiple()))
        .put("height", narrowed(manifest.getJsonObject("height"), model.minSize(), model.maxSize(), model.sizeMultiple()))
        .put("steps", narrowed(manifest.getJsonObject("steps"), model.minSteps(), model.maxSteps(), 1))
        .put("guidance", new JsonObject().put("min", model.minGuidance()).put("max", model.maxGuidance()))
        .put("max_batch_size", model.maxBatch())
        .put("defaults", new JsonObject().put("width", model.defaultWidth()).put("height", model.defaultHeight())
            .put("steps", model.defaultSteps()).put("guidance", model.defaultGuidance()))
        .put("adapters", adapters(manifest, model))
        .put("conditioning", conditioning(manifest, model))
        .put("vram_mb", manifest.getValue("vram_mb"))
        .put("source", fromRegistry ? "registry" : "config");
  }

  private static JsonObject find(JsonObject listing, String name) {
    for (Object item : listing.getJsonArray("models")) {
      if (item instanceof JsonObject model && name.equals(model.getString("name"))) {
        return model;
      }
    }
    return null;
  }

  /** The manifest's range within what the edge accepts (config); the config's range when the manifest has none. */
  private static JsonObject narrowed(JsonObject range, int min, int max, int multiple) {
    int lo = min;
    int hi = max;
    int step = multiple;
    if (range != null && range.getValue("min") instanceof Number rMin && range.getValue("max") instanceof Number rMax) {
      lo = Math.max(min, rMin.intValue());
      hi = Math.min(max, rMax.intValue());
      int rStep = range.getValue("multiple_of") instanceof Number n ? Math.max(1, n.intValue()) : 1;
      step = lcm(multiple, rStep);
    }
    return new JsonObject().put("min", lo).put("max", hi).put("multiple_of", step);
  }

  private static int lcm(int a, int b) {
    int x = a;
    int y = b;
    while (y != 0) {
      int t = x % y;
      x = y;
      y = t;
    }
    return a / x * b;
  }

  private static JsonArray adapters(JsonObject manifest, ModelConfig model) {
    JsonArray out = new JsonArray();
    if (manifest.getValue("adapters") instanceof JsonArray declared && !declared.isEmpty()) {
      for (Object item : declared) {
        if (item instanceof JsonObject adapter) {
          JsonObject copy = adapter.copy();
          copy.remove("files");
          out.add(copy);
        }
      }
      return out;
    }
    for (String reference : model.adapters()) {
      int at = reference.indexOf('@');
      out.add(new JsonObject().put("name", reference.substring(0, at)).put("version", reference.substring(at + 1)));
    }
    return out;
  }

  private static JsonArray conditioning(JsonObject manifest, ModelConfig model) {
    if (manifest.getValue("conditioning") instanceof JsonArray declared && !declared.isEmpty()) {
      return declared.copy();
    }
    JsonArray out = new JsonArray();
    model.conditioning().forEach(name -> out.add(new JsonObject().put("name", name)));
    return out;
  }

  private static JsonArray nonEmpty(JsonArray value, JsonArray fallback) {
    return value == null || value.isEmpty() ? fallback : value;
  }
}
