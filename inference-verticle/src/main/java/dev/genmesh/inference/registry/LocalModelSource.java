package dev.genmesh.inference.registry;

import dev.genmesh.config.ModelConfig;
import dev.genmesh.inference.model.ModelInstaller;
import java.nio.file.Path;
import java.util.Map;

/** Models without a registry: the configured version, built locally when bundled. */
final class LocalModelSource implements ModelSource {
  private final Map<String, ModelConfig> models;
  private final Path modelRoot;

  LocalModelSource(Map<String, ModelConfig> models, Path modelRoot) {
    this.models = models;
    this.modelRoot = modelRoot;
  }

  @Override
  public Resolved resolve(String name) {
    ModelConfig model = models.get(name);
    if (model == null) {
      throw new IllegalArgumentException("model " + name + " is not configured");
    }
    return new Resolved(name, model.version(), ModelInstaller.resolve(model, modelRoot));
  }
}
