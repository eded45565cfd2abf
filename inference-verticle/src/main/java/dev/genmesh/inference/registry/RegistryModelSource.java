package dev.genmesh.inference.registry;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ModelConfig;
import dev.genmesh.config.RegistryConfig;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.registry.BundleCheck;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Models from the worker's region registry (inference-verticle/MODEL.md, "Registry"): the
 * version {@code CURRENT} names is pulled into the local cache and every file verified. A
 * corrupted copy is deleted and pulled again; a version still bad after
 * {@code registry.pull_attempts} pulls is given up, the worker rolls back to the previous good
 * version and publishes a {@code model_rollback} alert. When the registry does not answer or
 * does not have the model, the worker runs what it has cached, or builds the bundled model.
 */
public final class RegistryModelSource implements ModelSource {
  private static final Logger LOG = LoggerFactory.getLogger(RegistryModelSource.class);
  public static final String ALERT_MODEL_ROLLBACK = "model_rollback";

  private final Map<String, ModelConfig> models;
  private final String region;
  private final String workerId;
  private final RegistryConfig settings;
  private final Path modelRoot;
  private final RegistryClient client;
  private final ModelCache cache;
  private final CacheRetention retention;
  private final MeterRegistry meters;
  private final BadVersions badVersions = new BadVersions();
  private final Set<String> alerted = ConcurrentHashMap.newKeySet();
  private volatile Vertx vertx;
  private WorkerExecutor executor;
  /** The cache's own bookkeeping (retention refresh, release at stop), never behind a pull on {@link #executor}. */
  private WorkerExecutor cacheIo;
  private long timer = -1;
  private long refreshTimer = -1;
  private boolean polling;

  /** Pulls from {@code config.regions().get(region).effectiveApiUrl()}. */
  public RegistryModelSource(GenmeshConfig config, String region, String workerId, Path modelRoot, MeterRegistry meters) {
    this.models = config.models();
    this.region = region;
    this.workerId = workerId;
    this.settings = config.registry();
    this.modelRoot = modelRoot;
    this.client = new RegistryClient(config.region(region).effectiveApiUrl(), settings.downloadTimeoutMs());
    this.cache = new ModelCache(modelRoot);
    Map<String, String> configured = new HashMap<>();
    models.forEach((name, model) -> configured.put(name, model.version()));
    this.retention = new CacheRetention(cache, workerId, configured, Clock.systemUTC());
    this.meters = meters;
  }

  @Override
  public void attach(Vertx vertx) {
    this.vertx = vertx;
    this.executor = vertx.createSharedWorkerExecutor("genmesh-registry-" + workerId, 1);
    this.cacheIo = vertx.createSharedWorkerExecutor("genmesh-model-cache-" + workerId, 1);
  }

  @Override
  public Resolved resolve(String name) {
    JsonObject entry;
    try {
      entry = modelEntry(client.listing(), name);
    } catch (IOException e) {
      return fallback(name, "the registry of " + region + " at " + client.base() + " did not answer (" + e + ")");
    }
    if (entry == null) {
      return fallback(name, name + " is not published in the registry of " + region);
    }
    try {
      return resolveVersion(name, startVersion(name, entry), entry);
    } catch (RegistryUnavailable e) {
      return fallback(name, e.getMessage());
    }
  }

  /**
   * Called once the worker runs its models: they are what it last used, the cache keeps them and
   * what it used before ({@code LAST} until now), and the rest of the cache can go.
   */
  @Override
  public void watch(Supplier<Map<String, String>> running, Function<Resolved, Future<Void>> switcher) {
    Map<String, String> loaded = Map.copyOf(running.get());
    executor.executeBlocking(() -> {
      loaded.forEach((name, version) -> {
        String before = cache.last(name).filter(v -> !v.equals(version)).orElse(null);
        cache.remember(name, version);
        retain(name, version, before);
      });
      return null;
    }, false);
    timer = vertx.setPeriodic(settings.pollIntervalMs(), id -> poll(running, switcher));
    refreshTimer = vertx.setPeriodic(CacheRetention.REFRESH_MS, id -> cacheIo.executeBlocking(() -> {
      retention.refresh();
      return null;
    }, false));
  }

  @Override
  public Future<Void> close() {
    if (vertx == null) {
      return Future.succeededFuture();
    }
    vertx.cancelTimer(timer);
    vertx.cancelTimer(refreshTimer);
    timer = -1;
    refreshTimer = -1;
    // Not on the registry thread: it may be busy with a pull that must not delay the stop.
    Future<Void> released = cacheIo.executeBlocking(() -> {
      retention.release();
      return null;
    }, false);
    return released.<Void>mapEmpty().recover(e -> Future.succeededFuture())
        .transform(v -> cacheIo.close())
        .transform(v -> executor.close());
  }

  /** One poll: which running models have a new current version, pulled and verified off the event loop. */
  private void poll(Supplier<Map<String, String>> running, Function<Resolved, Future<Void>> switcher) {
    if (polling) {
      return;
    }
    polling = true;
    Map<String, String> now = Map.copyOf(running.get());
    executor.executeBlocking(() -> changes(now), false)
        .compose(next -> {
          Future<Void> chain = Future.succeededFuture();
          for (Resolved version : next) {
            chain = chain.compose(v -> switcher.apply(version).transform(switched -> {
              if (switched.failed()) {
                badVersions.mark(version.name(), version.version());
                LOG.error("worker {}: could not switch {} to {}, keeps the running version: {}", workerId,
                    version.name(), version.version(), switched.cause().toString());
                return Future.succeededFuture();
              }
              return executor.executeBlocking(() -> {
                cache.remember(version.name(), version.version());
                retain(version.name(), version.version(), now.get(version.name())); // the old one is the rollback target
                return null;
              }, false).<Void>mapEmpty();
            }));
          }
          return chain;
        })
        .onComplete(done -> {
          polling = false;
          if (done.failed()) {
            LOG.debug("worker {}: registry poll failed: {}", workerId, done.cause().toString());
          }
        });
  }

  private List<Resolved> changes(Map<String, String> running) {
    JsonObject listing;
    try {
      listing = client.listing();
    } catch (IOException e) {
      LOG.debug("worker {}: registry of {} did not answer the poll: {}", workerId, region, e.toString());
      return List.of();
    }
    List<Resolved> out = new ArrayList<>();
    running.forEach((name, version) -> {
      JsonObject entry = modelEntry(listing, name);
      String current = entry == null ? null : entry.getString("current");
      if (current == null || current.equals(version) || badVersions.contains(name, current)) {
        return;
      }
      LOG.info("worker {}: {} {} is current in {} (running {}): pulling it", workerId, name, current, region, version);
      try {
        Resolved next = resolveVersion(name, current, entry);
        if (!next.version().equals(version)) {
          out.add(next);
        }
      } catch (RuntimeException e) {
        LOG.error("worker {}: keeps {} {}: {}", workerId, name, version, e.getMessage());
      }
    });
    return out;
  }

  /** The version, or (when it stays bad) the previous good one, with an alert. */
  private Resolved resolveVersion(String name, String version, JsonObject entry) {
    try {
      return pull(name, version);
    } catch (VersionUnusable unusable) {
      badVersions.mark(name, version);
      for (String candidate : BadVersions.rollbackCandidates(version, entry, cache.versions(name))) {
        if (badVersions.contains(name, candidate)) {
          continue;
        }
        try {
          Resolved good = pull(name, candidate);
          rolledBack(name, version, candidate, unusable.getMessage());
          return good;
        } catch (VersionUnusable alsoBad) {
          badVersions.mark(name, candidate);
        }
      }
      throw new IllegalStateException("model " + name + " " + version + " is bad (" + unusable.getMessage()
          + ") and no earlier version could be had");
    }
  }

  /**
   * Makes the cached copy whole: verified as it is, or deleted and pulled again (reusing the
   * files that are fine), up to {@code pull_attempts} pulls.
   */
  private Resolved pull(String name, String version) throws VersionUnusable {
    // Only what a registry accepts as a version name reaches the disk.
    if (!BundleCheck.validName(version)) {
      throw new VersionUnusable("'" + version + "' is not a version name (it would leave the model cache)");
    }
    byte[] bytes;
    JsonObject manifest;
    try {
      bytes = client.manifest(name, version);
      manifest = new JsonObject(new String(bytes, StandardCharsets.UTF_8));
    } catch (RegistryClient.NotPublished e) {
      throw new VersionUnusable(name + " " + version + " is not published in " + region);
    } catch (IOException e) {
      throw new RegistryUnavailable("the registry of " + region + " did not answer (" + e + ")", e);
    } catch (RuntimeException e) {
      throw new VersionUnusable("the manifest of " + name + " " + version + " is not JSON: " + e.getMessage());
    }
    if (!name.equals(manifest.getValue("name")) || !version.equals(manifest.getValue("version"))
        || !(manifest.getValue("files") instanceof JsonArray)) {
      throw new VersionUnusable("the manifest served for " + name + " " + version + " does not describe it");
    }
    retention.using(name, version); // from here until the next retain, no worker deletes it
    String lastProblem = null;
    for (int pulls = 0; ; pulls++) {
      Optional<String> problem = cache.problem(name, version, manifest);
      if (problem.isEmpty()) {
        return new Resolved(name, version, cache.dir(name, version));
      }
      if (!problem.get().equals("not cached")) {
        lastProblem = problem.get();
        count("genmesh.worker.model.corrupted", name);
        LOG.warn("worker {}: cached {} {} is corrupted ({}): deleting it and pulling it again", workerId, name, version,
            lastProblem);
      }
      if (pulls >= settings.pullAttempts()) {
        evict(name, version);
        throw new VersionUnusable(lastProblem == null ? "could not be pulled" : lastProblem);
      }
      try {
        cache.pull(client, name, version, bytes, manifest);
        counter("genmesh.worker.model.pulls", name, "outcome", "ok").increment();
      } catch (RegistryClient.ChecksumMismatch e) {
        lastProblem = e.getMessage();
        counter("genmesh.worker.model.pulls", name, "outcome", "checksum_mismatch").increment();
        LOG.warn("worker {}: pull {}/{} of {} {} failed verification: {}", workerId, pulls + 1, settings.pullAttempts(),
            name, version, e.getMessage());
      } catch (IOException e) {
        throw new RegistryUnavailable("pulling " + name + " " + version + " from " + region + " failed: " + e, e);
      }
    }
  }

  private void rolledBack(String name, String bad, String good, String reason) {
    counter("genmesh.worker.model.rollbacks", name, "bad_version", bad).increment();
    JsonObject alert = new JsonObject()
        .put("type", ALERT_MODEL_ROLLBACK)
        .put("model", name)
        .put("bad_version", bad)
        .put("good_version", good)
        .put("worker", workerId)
        .put("region", region)
        .put("reason", reason)
        .put("time", Instant.now().toString());
    if (alerted.add(name + "@" + bad)) {
      LOG.error("worker {} of {}: model {} {} is still bad after {} pulls ({}); rolled back to {}", workerId, region, name,
          bad, settings.pullAttempts(), reason, good);
    } else {
      LOG.debug("worker {}: rolled back {} {} to {} again", workerId, name, bad, good);
    }
    Vertx bus = vertx;
    if (bus != null) {
      bus.eventBus().publish(Addresses.ALERTS, alert);
    }
  }

  /** Without the registry: the version last used, else the configured one if cached whole, else the local build. */
  private Resolved fallback(String name, String why) {
    ModelConfig configured = models.get(name);
    Set<String> candidates = new LinkedHashSet<>();
    cache.last(name).ifPresent(candidates::add);
    if (configured != null) {
      candidates.add(configured.version());
    }
    for (String version : candidates) {
      Path dir = cache.dir(name, version);
      retention.using(name, version);
      if (Files.isDirectory(dir) && ModelCache.verify(dir).isEmpty()) {
        LOG.warn("worker {}: {}; runs the cached {} {}", workerId, why, name, version);
        return new Resolved(name, version, dir);
      }
    }
    LOG.warn("worker {}: {}; uses the configured {} (built locally when bundled)", workerId, why, name);
    return ModelSource.local(models, modelRoot).resolve(name);
  }

  private String startVersion(String name, JsonObject entry) {
    String current = entry.getString("current");
    if (current != null) {
      return current;
    }
    JsonArray versions = entry.getJsonArray("versions", new JsonArray());
    ModelConfig configured = models.get(name);
    for (Object v : versions) {
      if (configured != null && configured.version().equals(((JsonObject) v).getString("version"))) {
        return configured.version();
      }
    }
    return versions.getJsonObject(versions.size() - 1).getString("version");
  }

  private static JsonObject modelEntry(JsonObject listing, String name) {
    for (Object item : listing.getJsonArray("models", new JsonArray())) {
      if (item instanceof JsonObject model && name.equals(model.getString("name"))
          && !model.getJsonArray("versions", new JsonArray()).isEmpty()) {
        return model;
      }
    }
    return null;
  }

  /** Deletes the cached versions the worker no longer needs; a failure only leaves them on disk. */
  private void retain(String name, String running, String previous) {
    try {
      retention.retain(name, running, previous);
    } catch (RuntimeException e) {
      LOG.warn("worker {}: kept every cached version of {}: {}", workerId, name, e.getMessage());
    }
  }

  private void evict(String name, String version) {
    try {
      cache.evict(name, version);
    } catch (IOException e) {
      LOG.warn("worker {}: could not delete the bad copy of {} {}: {}", workerId, name, version, e.toString());
    }
  }

  private void count(String meter, String model) {
    counter(meter, model, "region", region).increment();
  }

  private Counter counter(String meter, String model, String tag, String value) {
    return Counter.builder(meter).tags("region", region, "worker", workerId, "model", model, tag, value).register(meters);
  }
}
