package dev.genmesh.config;

import dev.genmesh.config.impl.Node;
import java.util.List;

/**
 * An inference worker: what it reports itself as and how it uses the machine.
 *
 * @param modelDir where bundled models are built and other models cached; empty means
 *     {@code <data dir>/models}
 * @param vramMb memory budget it advertises (on CPU: the budget it allows itself)
 */
public record WorkerConfig(
    String gpuClass,
    long vramMb,
    List<String> models,
    String modelDir,
    int intraOpThreads,
    int interOpThreads,
    long heartbeatIntervalMs,
    long claimPollMs) {

  public WorkerConfig withModelDir(String dir) {
    return new WorkerConfig(gpuClass, vramMb, models, dir, intraOpThreads, interOpThreads, heartbeatIntervalMs, claimPollMs);
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
        n.integer("claim_poll_ms", 10L, 60_000L));
    n.finish();
    return config;
  }
}
