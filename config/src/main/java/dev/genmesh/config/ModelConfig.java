package dev.genmesh.config;

import dev.genmesh.config.impl.Node;
import java.util.List;

/**
 * A model users can ask for, and the limits the edge enforces for it.
 *
 * @param path SavedModel bundle directory; empty means the bundled model that the worker
 *     builds into its model directory on first start
 * @param vramMb memory one request needs besides its images (weights, activations); 0 = unknown
 * @param vramMbPerMegapixel extra memory per megapixel of each image of a batch; the scheduler's
 *     estimate is {@code vramMb + vramMbPerMegapixel * width * height / 1e6 * batch_size}
 * @param adapters the LoRA adapters a request may name for this model, each {@code name@version}
 *     (a request may say just {@code name}: the last version listed); empty: none
 * @param conditioning the conditioning inputs it accepts (e.g. {@code edges}: a grayscale control
 *     image of the output size); empty: none
 * @param fallback the model a request that allows it ({@code allow_fallback}) runs on while this
 *     model's circuit breaker is open; empty: none
 * @param family its {@code autoscaling.model_mix} family (the autoscaler's plans, warm-up order and
 *     drain order speak of families); empty in a hand-built config means "derive it"
 *     ({@link GenmeshConfig#modelFamily}); a loaded config always has it filled in
 */
public record ModelConfig(
    String name,
    String version,
    String path,
    int minSize,
    int maxSize,
    int sizeMultiple,
    int defaultWidth,
    int defaultHeight,
    int minSteps,
    int maxSteps,
    int defaultSteps,
    int maxBatch,
    double minGuidance,
    double maxGuidance,
    double defaultGuidance,
    List<String> requestClasses,
    long vramMb,
    long vramMbPerMegapixel,
    List<String> adapters,
    List<String> conditioning,
    String fallback,
    String family) {

  public ModelConfig {
    adapters = List.copyOf(adapters);
    conditioning = List.copyOf(conditioning);
    family = family == null ? "" : family;
  }

  /** Without a declared family (derived from the request classes, {@link GenmeshConfig#modelFamily}). */
  public ModelConfig(String name, String version, String path, int minSize, int maxSize, int sizeMultiple,
      int defaultWidth, int defaultHeight, int minSteps, int maxSteps, int defaultSteps, int maxBatch,
      double minGuidance, double maxGuidance, double defaultGuidance, List<String> requestClasses, long vramMb,
      long vramMbPerMegapixel, List<String> adapters, List<String> conditioning, String fallback) {
    this(name, version, path, minSize, maxSize, sizeMultiple, defaultWidth, defaultHeight, minSteps, maxSteps,
        defaultSteps, maxBatch, minGuidance, maxGuidance, defaultGuidance, requestClasses, vramMb, vramMbPerMegapixel,
        adapters, conditioning, fallback, "");
  }

  /** The same model in {@code newFamily}. */
  public ModelConfig withFamily(String newFamily) {
    return new ModelConfig(name, version, path, minSize, maxSize, sizeMultiple, defaultWidth, defaultHeight, minSteps,
        maxSteps, defaultSteps, maxBatch, minGuidance, maxGuidance, defaultGuidance, requestClasses, vramMb,
        vramMbPerMegapixel, adapters, conditioning, fallback, newFamily);
  }

  /** Without a fallback model. */
  public ModelConfig(String name, String version, String path, int minSize, int maxSize, int sizeMultiple,
      int defaultWidth, int defaultHeight, int minSteps, int maxSteps, int defaultSteps, int maxBatch,
      double minGuidance, double maxGuidance, double defaultGuidance, List<String> requestClasses, long vramMb,
      long vramMbPerMegapixel, List<String> adapters, List<String> conditioning) {
    this(name, version, path, minSize, maxSize, sizeMultiple, defaultWidth, defaultHeight, minSteps, maxSteps,
        defaultSteps, maxBatch, minGuidance, maxGuidance, defaultGuidance, requestClasses, vramMb, vramMbPerMegapixel,
        adapters, conditioning, "");
  }

  /** Without adapters or conditioning. */
  public ModelConfig(String name, String version, String path, int minSize, int maxSize, int sizeMultiple,
      int defaultWidth, int defaultHeight, int minSteps, int maxSteps, int defaultSteps, int maxBatch,
      double minGuidance, double maxGuidance, double defaultGuidance, List<String> requestClasses, long vramMb,
      long vramMbPerMegapixel) {
    this(name, version, path, minSize, maxSize, sizeMultiple, defaultWidth, defaultHeight, minSteps, maxSteps,
        defaultSteps, maxBatch, minGuidance, maxGuidance, defaultGuidance, requestClasses, vramMb, vramMbPerMegapixel,
        List.of(), List.of());
  }

  /** Without the VRAM estimate (unknown: the scheduler does not check memory for this model). */
  public ModelConfig(String name, String version, String path, int minSize, int maxSize, int sizeMultiple,
      int defaultWidth, int defaultHeight, int minSteps, int maxSteps, int defaultSteps, int maxBatch,
      double minGuidance, double maxGuidance, double defaultGuidance, List<String> requestClasses) {
    this(name, version, path, minSize, maxSize, sizeMultiple, defaultWidth, defaultHeight, minSteps, maxSteps,
        defaultSteps, maxBatch, minGuidance, maxGuidance, defaultGuidance, requestClasses, 0, 0);
  }

  /** Estimated memory for one request of this model (0 when the model declares no estimate). */
  public long vramEstimateMb(int width, int height, int batchSize) {
    if (vramMb == 0 && vramMbPerMegapixel == 0) {
      return 0;
    }
    return vramMb + (long) Math.ceil(vramMbPerMegapixel * (width * (double) height / 1_000_000.0) * Math.max(1, batchSize));
  }

  /**
   * The declared adapter a request's {@code name} or {@code name@version} means, as
   * {@code name@version}; empty if this model declares no such adapter.
   */
  public java.util.Optional<String> resolveAdapter(String reference) {
    if (reference == null) {
      return java.util.Optional.empty();
    }
    if (reference.contains("@")) {
      return adapters.contains(reference) ? java.util.Optional.of(reference) : java.util.Optional.empty();
    }
    String found = null;
    for (String adapter : adapters) {
      if (adapter.substring(0, adapter.indexOf('@')).equals(reference)) {
        found = adapter; // the last listed version wins
      }
    }
    return java.util.Optional.ofNullable(found);
  }

  public boolean isBundled() {
    return path.isBlank();
  }

  static ModelConfig read(Node n) {
    ModelConfig config = new ModelConfig(
        n.name(),
        n.string("version"),
        n.string("path", ""),
        n.integer("min_size", 8, 8192),
        n.integer("max_size", 8, 8192),
        n.integer("size_multiple", 8, 1024),
        n.integer("default_width", 8, 8192),
        n.integer("default_height", 8, 8192),
        n.integer("min_steps", 1, 1000),
        n.integer("max_steps", 1, 1000),
        n.integer("default_steps", 1, 1000),
        n.integer("max_batch", 1, 64),
        n.decimal("min_guidance", 0, 100),
        n.decimal("max_guidance", 0, 100),
        n.decimal("default_guidance", 0, 100),
        n.strings("request_classes"),
        n.integer("vram_mb", 0, 1_000_000, 0),
        n.integer("vram_mb_per_megapixel", 0, 1_000_000, 0),
        n.strings("adapters", List.of()),
        n.strings("conditioning", List.of()),
        n.string("fallback", ""),
        n.string("family", ""));
    n.finish();
    for (String adapter : config.adapters) {
      if (!adapter.matches("[A-Za-z0-9._-]+@[A-Za-z0-9._-]+")) {
        throw new ConfigException(n.keyPath("adapters"), "entries must be name@version, got '" + adapter + "'");
      }
    }
    if (config.minSize > config.maxSize) {
      throw new ConfigException(n.keyPath("min_size"), "must not exceed max_size");
    }
    if (config.minSize % 8 != 0 || config.maxSize % 8 != 0 || config.sizeMultiple % 8 != 0) {
      throw new ConfigException(n.keyPath("size_multiple"), "sizes must be multiples of 8 (latents are 1/8 of the image)");
    }
    if (config.defaultSteps < config.minSteps || config.defaultSteps > config.maxSteps) {
      throw new ConfigException(n.keyPath("default_steps"), "must lie between min_steps and max_steps");
    }
    if (config.defaultGuidance < config.minGuidance || config.defaultGuidance > config.maxGuidance) {
      throw new ConfigException(n.keyPath("default_guidance"), "must lie between min_guidance and max_guidance");
    }
    return config;
  }
}
