package dev.genmesh.inference.pipeline;

import dev.genmesh.inference.model.LoraAdapter;
import dev.genmesh.inference.pipeline.impl.NhwcArray;

/**
 * What a step adds to the base denoiser: a LoRA adapter with its request scale, and a
 * conditioning grid per batch item ([b, h, w, 1], see {@link ControlImage}) with its scale.
 * Either part may be absent (null).
 */
public record Adaptation(LoraAdapter adapter, float adapterScale, NhwcArray control,
    float controlScale) {

  public static final Adaptation NONE = new Adaptation(null, 0f, null, 0f);

  public boolean hasAdapter() {
    return adapter != null;
  }

  public boolean hasControl() {
    return control != null;
  }
}
