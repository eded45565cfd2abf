package dev.genmesh.config;

import dev.genmesh.config.impl.Node;
import java.util.List;

/**
 * An inference worker: what it reports itself as and how it uses the machine.
 *
 * @param modelDir where bundled models are built and other models cached; empty means
 *     {@code <data dir>/models}
 * @param vramMb memory budget it advertises (on CPU: the budget it allows itself)
 * @param maxBatchImages images it runs in one TensorFlow batch at most (several compatible
 *     requests share a batch); an OOM lowers the worker's own limit below this
 * @param visibleDevices GPU ids TensorFlow may use, comma-separated ({@code gpu_options.visible_device_list});
 *     empty: all. Ignored by the CPU runtime
 * @param allowGrowth {@code gpu_options.allow_growth}: take GPU memory as needed instead of all of it
 *     at start. Ignored by the CPU runtime
 * @param maxConsecutiveGpuErrors device errors in a row after which the worker stops claiming and
 *     reports itself not live
 * @param httpPort the worker's own HTTP port ({@code /health/live}, {@code /health/ready},
 *     {@code /metrics}); 0: any free port (printed at start)
 */
public record WorkerConfig(
    String gpuClass,
    long vramMb,
    List<String> models,
    String modelDir,
    int intraOpThreads,
    int interOpThreads,
    long heartbeatIntervalMs,
    long claimPollMs,
    int maxBatchImages,
    String visibleDevices,
    boolean allowGrowth,
    int maxConsecutiveGpuErrors,
    int httpPort) {

  /** Batches of one image, all devices, memory growth on, 3 device errors in a row. */
  public WorkerConfig(String gpuClass, long vramMb, List<String> models, String modelDir, int intraOpThreads,
      int interOpThreads, long heartbeatIntervalMs, long claimPollMs) {
    this(gpuClass, vramMb, models, modelDir, intraOpThreads, interOpThreads, heartbeatIntervalMs, claimPollMs, 1, "",
        true, 3, 0);
  }

  /** On any free HTTP port. */
  public WorkerConfig(String gpuClass, long vramMb, List<String> models, String modelDir, int intraOpThreads,
      int interOpThreads, long heartbeatIntervalMs, long claimPollMs, int maxBatchImages, String visibleDevices,
      boolean allowGrowth, int maxConsecutiveGpuErrors) {
    this(gpuClass, vramMb, models, modelDir, intraOpThreads, interOpThreads, heartbeatIntervalMs, claimPollMs,
        maxBatchImages, visibleDevices, allowGrowth, maxConsecutiveGpuErrors, 0);
  }

  public WorkerConfig withModelDir(String dir) {
    return new WorkerConfig(gpuClass, vramMb, models, dir, intraOpThreads, interOpThreads, heartbeatIntervalMs,
        claimPollMs, maxBatchImages, visibleDevices, allowGrowth, maxConsecutiveGpuErrors, httpPort);
  }

  static WorkerConfig read(Node n) {
    WorkerConfig config = new WorkerConfig(
        n.string("gpu_class"),
        n.integer("vram_mb", 1L, 10_000_000L),
        n.strings("models"),
        n.string("model_dir", ""),
        n.integer("intra_op_threads", 1, 256),
        n.integer("inter_op_threads", 1, 256),
        n.integer("heartbeat_interval_ms", 100L, 600_000L),
        n.integer("claim_poll_ms", 10L, 60_000L),
        n.integer("max_batch_images", 1, 64, 4),
        n.string("visible_devices", ""),
        n.bool("allow_growth", true),
        n.integer("max_consecutive_gpu_errors", 1, 100, 3),
        n.integer("http_port", 0, 65535, 0));
    n.finish();
    if (!config.visibleDevices.isEmpty() && !config.visibleDevices.matches("\\d+(,\\d+)*")) {
      throw new ConfigException(n.keyPath("visible_devices"), "must be GPU ids separated by commas, e.g. 0,1");
    }
    return config;
  }
}
