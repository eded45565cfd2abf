package dev.genmesh.inference.model;

import java.util.List;

/**
 * One member of the bundled model family: how wide and deep its denoiser is, and which adapters
 * and conditioning it ships with. The builder turns it into a SavedModel; the name a model is
 * configured under picks the architecture ({@link #forModelName}).
 *
 * @param hidden channels of the denoiser's conv net
 * @param middleConvs hidden-to-hidden 3x3 convs between its input and output convs
 * @param adapters LoRA adapters built with the model (name, version); they need
 *     {@code denoise_step_lora}
 * @param conditioning conditioning inputs it accepts; they need {@code denoise_step_control}
 */
public record ModelArchitecture(
    String key,
    int hidden,
    int middleConvs,
    List<String> adapters,
    List<String> conditioning,
    List<String> requestClasses,
    long defaultWeightSeed) {

  /** SDXL-class stand-in: small and quick, with a LoRA adapter and an edge-map conditioning. */
  public static final ModelArchitecture TINY = new ModelArchitecture("tiny", 32, 1,
      List.of("watercolor@1"), List.of("edges"),
      List.of("sdxl", "sdxl_lora", "sdxl_controlnet", "high_res", "batch"), 20261127L);

  /** SD3/Flux-class stand-in: a wider, deeper denoiser (about 4x the multiply-adds per step). */
  public static final ModelArchitecture SMALL = new ModelArchitecture("small", 64, 2,
      List.of(), List.of(), List.of("sd3_flux", "high_res", "batch"), 20261201L);

  public static final String SMALL_MODEL_NAME = "genmesh-small";

  public ModelArchitecture {
    adapters = List.copyOf(adapters);
    conditioning = List.copyOf(conditioning);
    requestClasses = List.copyOf(requestClasses);
  }

  /** {@code genmesh-small} (or any name ending in {@code -small}) is SMALL; everything else TINY. */
  public static ModelArchitecture forModelName(String name) {
    return name != null && (name.equals(SMALL_MODEL_NAME) || name.endsWith("-small")) ? SMALL : TINY;
  }

  public boolean hasAdapters() {
    return !adapters.isEmpty();
  }

  public boolean hasConditioning() {
    return !conditioning.isEmpty();
  }
}
