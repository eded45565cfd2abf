package dev.genmesh.launcher.impl;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ModelConfig;
import dev.genmesh.inference.model.ModelInstaller;
import dev.genmesh.registry.ModelRegistry;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * For {@code genmesh up}: the bundled models, built once, published if missing into the primary's
 * registry (the other regions pull them from it), or into every region's with
 * {@code registry.seed_all_regions} or when the primary is not among the regions started.
 */
public final class BundledModels {
  private static final Logger LOG = LoggerFactory.getLogger(BundledModels.class);

  private BundledModels() {}

  /** The registries {@code up} publishes the bundled models into itself. */
  public static List<String> seededRegions(GenmeshConfig config) {
    String primary = config.registry().primary();
    if (config.registry().seedAllRegions() || !config.regions().containsKey(primary)) {
      return List.copyOf(config.regions().keySet());
    }
    return List.of(primary);
  }

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
