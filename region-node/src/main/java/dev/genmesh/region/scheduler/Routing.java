package dev.genmesh.region.scheduler;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ModelConfig;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.WorkerMessages;
import dev.genmesh.region.queue.QueueEntry;
import dev.genmesh.region.requests.RequestRow;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What kind of worker a request needs (region-node/API.md, "Scheduler matching"): its request
 * class for the routing matrix and its estimated memory. Pure: reads only the config.
 */
public final class Routing {
  public static final String HIGH_RES = "high_res";
  public static final String BATCH = "batch";
  public static final String SDXL_LORA = "sdxl_lora";
  public static final String SDXL_CONTROLNET = "sdxl_controlnet";
  /** Above this width or height a request is {@code high_res}. */
  static final int HIGH_RES_ABOVE = 1024;

  private static final Set<String> SPECIAL = Set.of(HIGH_RES, BATCH, SDXL_LORA, SDXL_CONTROLNET);

  private final Map<String, ModelConfig> models;
  private final Set<String> gpus;
  private final Map<String, List<String>> matrix;
  /** Each model's first plain request class, found once (absent: none). */
  private final Map<String, String> plainClasses = new HashMap<>();

  public Routing(GenmeshConfig config) {
    this.models = config.models();
    this.gpus = config.gpus().keySet();
    this.matrix = config.routing();
    models.forEach((name, model) -> model.requestClasses().stream().filter(c -> !SPECIAL.contains(c)).findFirst()
        .ifPresent(plain -> plainClasses.put(name, plain)));
  }

  /**
   * {@code high_res} when width or height is above 1024, else {@code batch} when batch_size > 1,
   * else {@code sdxl_controlnet} with a control image and {@code sdxl_lora} with an adapter
   * (when the model declares those classes), else the model's first plain request class; null
   * when that class is not in the routing matrix (then any GPU may serve it).
   */
  public String requestClass(GenerationSpec spec) {
    String name = spec.model();
    ModelConfig model = models.get(name);
    String requestClass;
    if (spec.width() > HIGH_RES_ABOVE || spec.height() > HIGH_RES_ABOVE) {
      requestClass = HIGH_RES;
    } else if (spec.batchSize() > 1) {
      requestClass = BATCH;
    } else if (model == null) {
      requestClass = null;
    } else if (spec.hasControlImage() && model.requestClasses().contains(SDXL_CONTROLNET)) {
      requestClass = SDXL_CONTROLNET;
    } else if (spec.hasAdapter() && model.requestClasses().contains(SDXL_LORA)) {
      requestClass = SDXL_LORA;
    } else {
      requestClass = plainClasses.get(name);
    }
    return requestClass != null && matrix.containsKey(requestClass) ? requestClass : null;
  }

  /** The model's estimate ({@link ModelConfig#vramEstimateMb}); 0 when unknown. */
  public long vramEstimateMb(GenerationSpec spec) {
    ModelConfig model = models.get(spec.model());
    return model == null ? 0 : model.vramEstimateMb(spec.width(), spec.height(), spec.batchSize());
  }

  /**
   * The request classes a worker of this GPU class may serve; empty (= any class) when the GPU
   * class is not in the catalog, e.g. the {@code cpu} workers of {@code genmesh up}.
   */
  public Optional<Set<String>> classesFor(String gpuClass) {
    if (gpuClass == null || !gpus.contains(gpuClass)) {
      return Optional.empty();
    }
    Set<String> classes = new HashSet<>();
    matrix.forEach((requestClass, allowed) -> {
      if (allowed.contains(gpuClass)) {
        classes.add(requestClass);
      }
    });
    return Optional.of(classes);
  }

  /** The queue entry of a QUEUED row; {@code retry} also deletes a lease its last attempt left. */
  public QueueEntry entry(RequestRow row, boolean retry) {
    GenerationSpec spec = row.generationSpec();
    return new QueueEntry(row.id(), row.tier(), row.userId(), row.priority(),
        row.notBefore() == null ? 0 : row.notBefore().toEpochMilli(), row.model(), requestClass(spec),
        vramEstimateMb(spec), row.hintMinVramMb() == null ? 0 : row.hintMinVramMb(), row.excludedWorkers(), retry,
        WorkerMessages.BatchHint.keyOf(spec), spec.batchSize());
  }
}
