package dev.genmesh.breakers;

import dev.genmesh.config.ModelConfig;
import dev.genmesh.protocol.GenerationSpec;
import java.util.Map;
import java.util.Optional;

/**
 * Where a request may go when its model's breaker is open: the model's configured
 * {@code fallback}, and only if that model can run the request unchanged (size, steps, guidance,
 * batch, adapter, conditioning within its limits). The edge validated the request against its own
 * model only, so a request the fallback cannot run waits for its model instead. Pure.
 */
public final class FallbackRule {
  private final Map<String, ModelConfig> models;

  public FallbackRule(Map<String, ModelConfig> models) {
    this.models = Map.copyOf(models);
  }

  /** The fallback model for this spec, ignoring breakers and {@code allow_fallback}; empty if none fits. */
  public Optional<String> target(GenerationSpec spec) {
    ModelConfig from = models.get(spec.model());
    if (from == null || from.fallback() == null || from.fallback().isBlank() || from.fallback().equals(spec.model())) {
      return Optional.empty();
    }
    ModelConfig to = models.get(from.fallback());
    return to != null && runs(to, spec) ? Optional.of(from.fallback()) : Optional.empty();
  }

  static boolean runs(ModelConfig model, GenerationSpec spec) {
    return size(model, spec.width()) && size(model, spec.height())
        && spec.steps() >= model.minSteps() && spec.steps() <= model.maxSteps()
        && spec.guidance() >= model.minGuidance() && spec.guidance() <= model.maxGuidance()
        && spec.batchSize() <= model.maxBatch()
        && (!spec.hasAdapter() || model.resolveAdapter(spec.adapter()).isPresent())
        && (!spec.hasControlImage() || !model.conditioning().isEmpty());
  }

  private static boolean size(ModelConfig model, int pixels) {
    return pixels >= model.minSize() && pixels <= model.maxSize()
        && (model.sizeMultiple() <= 1 || pixels % model.sizeMultiple() == 0);
  }
}
