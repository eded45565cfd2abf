package dev.genmesh.inference.impl;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ModelConfig;
import dev.genmesh.inference.model.ModelManifest;
import dev.genmesh.inference.pipeline.DiffusionPipeline;
import dev.genmesh.inference.pipeline.FaultHook;
import dev.genmesh.inference.pipeline.GenerationInput;
import dev.genmesh.inference.pipeline.LoadedModel;
import dev.genmesh.inference.pipeline.ModelStore;
import dev.genmesh.inference.pipeline.SessionSettings;
import dev.genmesh.inference.pipeline.StepListener;
import dev.genmesh.inference.registry.ModelSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models a worker serves, each in its own TensorFlow session. Loading, warm-up and restart
 * block: call them on the worker's TensorFlow thread. The read methods may be called from any
 * thread; they see the last completed load.
 */
public final class ModelSet implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelSet.class);

  private final GenmeshConfig config;
  private final ModelSource source;
  private final SessionSettings session;
  private final FaultHook faultHook;
  private final ModelLoadFailures failures;
  private volatile Map<String, LoadedModel> models = Map.of();
  /** What to load again on a restart, even after a restart that failed left nothing loaded. */
  private volatile Map<String, Path> directories = Map.of();

  public ModelSet(GenmeshConfig config, ModelSource source, FaultHook faultHook, ModelLoadFailures failures) {
    this.config = config;
    this.failures = failures;
    this.source = source;
    var worker = config.worker();
    this.session = new SessionSettings(worker.intraOpThreads(), worker.interOpThreads(),
        worker.visibleDevices(), worker.allowGrowth());
    this.faultHook = faultHook;
  }

  /**
   * Resolves the models of {@code order} one after the other through the source (a registry pull,
   * or a local build of a bundled model), loads and warms each up, until one is warm: the worker
   * can serve from then on. A model that fails is recorded in {@link #failures()} and the next one
   * is tried.
   *
   * @return the models of {@code order} not tried yet, to load behind ({@link #tryLoad})
   * @throws IllegalStateException if no model of {@code order} loaded (the worker has nothing to serve)
   */
  public List<String> loadFirstOf(List<String> order, String workerId) {
    RuntimeException first = null;
    for (int i = 0; i < order.size(); i++) {
      try {
        loadOne(order.get(i), workerId);
        return List.copyOf(order.subList(i + 1, order.size()));
      } catch (RuntimeException e) {
        first = first == null ? e : first;
        failed(order.get(i), e, workerId);
      }
    }
    throw new IllegalStateException("worker " + workerId + " could not load any of its models: " + failures.reasons(),
        first);
  }

  /**
   * Loads and warms up one more model behind the first; a failure is recorded in
   * {@link #failures()} (the worker goes on claiming it and tries again on demand).
   *
   * @return true if it loaded
   */
  public boolean tryLoad(String name, String workerId) {
    try {
      loadOne(name, workerId);
      return true;
    } catch (RuntimeException e) {
      failed(name, e, workerId);
      return false;
    }
  }

  /**
   * Tries a model that failed before once more: resolve (pull again and verify, for a registry),
   * load, warm up. On failure it stays failing, with a longer backoff.
   */
  public void retry(String name, String workerId) {
    try {
      loadOne(name, workerId);
      LOG.info("worker {}: {} loaded after earlier failures", workerId, name);
    } catch (RuntimeException e) {
      failed(name, e, workerId);
      throw e;
    }
  }

  private void loadOne(String name, String workerId) {
    Path dir = source.resolve(name).directory();
    long started = System.nanoTime();
    LoadedModel m = ModelStore.load(dir, session);
    try {
      warmUp(m, config.models().get(name));
    } catch (RuntimeException e) {
      m.close();
      throw e;
    }
    Map<String, LoadedModel> updated = new LinkedHashMap<>(models);
    updated.put(name, m);
    models = ordered(updated);
    Map<String, Path> dirs = new LinkedHashMap<>(directories);
    dirs.put(name, dir);
    directories = ordered(dirs);
    failures.loaded(name);
    LOG.info("worker {} loaded {} {} from {} (load and warm-up {} ms)", workerId, name, m.manifest().version(), dir,
        (System.nanoTime() - started) / 1_000_000);
  }

  private void failed(String name, RuntimeException e, String workerId) {
    ModelLoadFailures.Failure failure = failures.failed(name, String.valueOf(e.getMessage()));
    LOG.error("worker {} could not load {} (attempt {}, next one not before {}): {}", workerId, name,
        failure.attempts(), failure.nextAttempt(), e.toString());
  }

  /** The configured order, whatever order the models loaded in. */
  private <T> Map<String, T> ordered(Map<String, T> byName) {
    Map<String, T> out = new LinkedHashMap<>();
    config.worker().models().forEach(name -> {
      if (byName.containsKey(name)) {
        out.put(name, byName.get(name));
      }
    });
    byName.forEach(out::putIfAbsent);
    return Collections.unmodifiableMap(out);
  }

  /** Closes every session and loads and warms up the same model directories again (after a device error). */
  public void restart(String workerId) {
    close();
    load(workerId, directories);
  }

  /** Loads and warms up another version of one model, then closes the one it replaces. */
  public void switchTo(ModelSource.Resolved resolved, String workerId) {
    LoadedModel next = ModelStore.load(resolved.directory(), session);
    try {
      warmUp(next, config.models().get(resolved.name()));
    } catch (RuntimeException e) {
      next.close();
      throw e;
    }
    Map<String, LoadedModel> updated = new LinkedHashMap<>(models);
    LoadedModel old = updated.put(resolved.name(), next);
    models = Collections.unmodifiableMap(updated);
    Map<String, Path> dirs = new LinkedHashMap<>(directories);
    dirs.put(resolved.name(), resolved.directory());
    directories = Collections.unmodifiableMap(dirs);
    if (old != null) {
      old.close();
    }
    LOG.info("worker {} switched {} to {} (was {})", workerId, resolved.name(), resolved.version(),
        old == null ? "not loaded" : old.manifest().version());
  }

  private void load(String workerId, Map<String, Path> directories) {
    Map<String, LoadedModel> loaded = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Path> e : directories.entrySet()) {
        LoadedModel m = ModelStore.load(e.getValue(), session);
        loaded.put(e.getKey(), m);
        long started = System.nanoTime();
        warmUp(m, config.models().get(e.getKey()));
        LOG.info("worker {} loaded {} {} from {} (warm-up {} ms)", workerId, e.getKey(),
            m.manifest().version(), e.getValue(), (System.nanoTime() - started) / 1_000_000);
      }
    } catch (RuntimeException e) {
      loaded.values().forEach(LoadedModel::close);
      throw e;
    }
    models = Collections.unmodifiableMap(loaded);
  }

  /** One step at the smallest size, through the fault hook like any run. */
  private void warmUp(LoadedModel model, ModelConfig config) {
    int side = warmUpSide(model, config);
    GenerationInput warmUp = new GenerationInput("warm-up", "", side, side, 1, 0L, 1.0, 1);
    new DiffusionPipeline(model, faultHook).generate(warmUp, StepListener.NONE, () -> false);
  }

  private static int warmUpSide(LoadedModel model, ModelConfig config) {
    return Math.max(config == null ? 0 : config.minSize(), model.manifest().width().min());
  }

  public LoadedModel get(String name) {
    return models.get(name);
  }

  /** The loaded models. */
  public List<String> names() {
    return new ArrayList<>(models.keySet());
  }

  /**
   * The models the worker claims work for: those loaded and those that failed (a request makes it
   * try again); not those still waiting to load behind the first.
   */
  public List<String> claimable() {
    Map<String, String> failing = failures.reasons();
    Map<String, LoadedModel> loaded = models;
    List<String> out = new ArrayList<>();
    for (String name : config.worker().models()) {
      if (loaded.containsKey(name) || failing.containsKey(name)) {
        out.add(name);
      }
    }
    return out;
  }

  /** Configured models neither loaded nor failing: not tried yet (they load behind the first). */
  public List<String> loading() {
    Map<String, String> failing = failures.reasons();
    Map<String, LoadedModel> loaded = models;
    return config.worker().models().stream()
        .filter(name -> !loaded.containsKey(name) && !failing.containsKey(name)).toList();
  }

  /** Configured models that could not be loaded. */
  public List<String> failedNames() {
    return new ArrayList<>(failures.reasons().keySet());
  }

  public ModelLoadFailures failures() {
    return failures;
  }

  /**
   * What one more image of the least demanding loaded model needs at its smallest size, on top
   * of the model's base memory (0 when no manifest declares an estimate, or nothing is loaded).
   */
  public long smallestNeedMb() {
    long smallest = Long.MAX_VALUE;
    for (Map.Entry<String, LoadedModel> e : models.entrySet()) {
      ModelManifest.VramEstimate vram = e.getValue().manifest().vram();
      int side = warmUpSide(e.getValue(), config.models().get(e.getKey()));
      smallest = Math.min(smallest, Math.max(0, vram.estimateMb(side, side, 1) - vram.baseMb()));
    }
    return smallest == Long.MAX_VALUE ? 0 : smallest;
  }

  /** Loaded model name → manifest version. */
  public Map<String, String> versions() {
    Map<String, String> versions = new LinkedHashMap<>();
    models.forEach((name, m) -> versions.put(name, m.manifest().version()));
    return versions;
  }

  /** Memory the loaded models hold, by their manifests' estimates. */
  public long baseMb() {
    return models.values().stream().mapToLong(m -> m.manifest().vram().baseMb()).sum();
  }

  /**
   * The estimate for {@code images} images of model {@code name} at width x height, with that
   * model's base memory; 0 when its manifest declares no estimate.
   */
  public long estimateMb(String name, int width, int height, int images) {
    LoadedModel m = models.get(name);
    if (m == null) {
      return 0;
    }
    ModelManifest.VramEstimate vram = m.manifest().vram();
    return vram.estimateMb(width, height, images);
  }

  /** Memory a request of model {@code name} may use: the budget less the other models' bases. */
  public long budgetMb(String name) {
    long others = models.entrySet().stream().filter(e -> !e.getKey().equals(name))
        .mapToLong(e -> e.getValue().manifest().vram().baseMb()).sum();
    return config.worker().vramMb() - others;
  }

  /** Drops every adapter held in memory (they load again from disk when next asked for). */
  public Set<String> unloadAdapters() {
    Set<String> dropped = new java.util.TreeSet<>();
    models.forEach((name, m) -> m.unloadAdaptersExcept(Set.of())
        .forEach(a -> dropped.add(name + ":" + a)));
    return dropped;
  }

  /** Adapters held in memory, as {@code model:name@version}. */
  public Set<String> loadedAdapters() {
    Set<String> loaded = new java.util.TreeSet<>();
    models.forEach((name, m) -> m.loadedAdapters().forEach(a -> loaded.add(name + ":" + a)));
    return loaded;
  }

  /** How the model sessions are configured (threads, visible GPUs). */
  public SessionSettings session() {
    return session;
  }

  public FaultHook faultHook() {
    return faultHook;
  }

  @Override
  public void close() {
    Map<String, LoadedModel> open = models;
    models = Map.of();
    open.values().forEach(LoadedModel::close);
  }
}
