package dev.genmesh.launcher.impl;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ModelConfig;
import dev.genmesh.inference.model.ModelInstaller;
import dev.genmesh.registry.ModelRegistry;
import java.nio.file.Path;
import java.util.Collection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** For {@code genmesh up}: the bundled models, built once, published into each region's registry if missing. */
public final class BundledModels {
  private static final Logger LOG = LoggerFactory.getLogger(BundledModels.class);

  private BundledModels() {}

  /**
   * @param buildRoot where the bundled models are built (the workers' model directory, so that
   *     the workers find them already cached)
   */
  public static void publish(GenmeshConfig config, Path buildRoot, Collection<Path> registries) {
    for (ModelConfig model : config.models().values()) {
      if (!model.isBundled()) {
        continue;
      }
      Path bundle = null;
      for (Path root : registries) {
        ModelRegistry registry = new ModelRegistry(root);
        if (registry.version(model.name(), model.version()).isPresent()) {
          continue;
        }
        if (bundle == null) {
          bundle = ModelInstaller.resolve(model, buildRoot);
        }
        registry.publish(bundle, false);
        LOG.info("published bundled model {} {} into {}", model.name(), model.version(), root);
      }
    }
  }
}
