package dev.genmesh.inference.registry;

import dev.genmesh.config.ModelConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Where a worker's models come from: a verified directory per model, and (for a registry) news
 * of a new current version to switch to.
 */
public interface ModelSource {

  /** A verified copy of one version of a model, ready for {@code ModelStore.load}. */
  record Resolved(String name, String version, Path directory) {}

  /** Gives the source its Vert.x (alerts go on its event bus); called before anything else. */
  default void attach(Vertx vertx) {}

  /**
   * Blocking (downloads, hashing): the directory of the version of {@code name} to run now.
   *
   * @throws RuntimeException when no good version can be had
   */
  Resolved resolve(String name);

  /**
   * Starts watching for a new current version of the models the worker runs. {@code running}
   * (model → version) is read on the event loop; {@code switcher} is called there with a
   * verified version and completes once the worker runs it.
   */
  default void watch(Supplier<Map<String, String>> running, Function<Resolved, Future<Void>> switcher) {}

  /** Stops watching. */
  default Future<Void> close() {
    return Future.succeededFuture();
  }

  /** No registry: bundled models are built into {@code modelRoot} on first use, others read from their path. */
  static ModelSource local(Map<String, ModelConfig> models, Path modelRoot) {
    return new LocalModelSource(models, modelRoot);
  }
}
