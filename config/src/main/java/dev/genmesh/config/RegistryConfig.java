package dev.genmesh.config;

import dev.genmesh.config.impl.Node;

/**
 * The model registry: where each region node keeps the models it serves, and how workers
 * pull from it (inference-verticle/MODEL.md, "Registry").
 *
 * @param dir root of the region registries, one folder per region ({@code <dir>/<region>});
 *     empty means {@code <data dir>/registry}
 * @param pull true: workers pull their models from their region's registry into their model
 *     directory; false: they build the bundled models locally and never ask the registry
 * @param pollIntervalMs how often a worker asks its region which version is current
 * @param pullAttempts downloads of one version a worker tries before it gives the version up
 *     as bad and rolls back to the previous good one
 * @param downloadTimeoutMs bound on one file download
 * @param catalogCacheMs how long the edge keeps the merged model listing of the regions
 */
public record RegistryConfig(
    String dir,
    boolean pull,
    long pollIntervalMs,
    int pullAttempts,
    long downloadTimeoutMs,
    long catalogCacheMs) {

  /** The defaults of genmesh-defaults.yaml, for code that builds a configuration by hand. */
  public static RegistryConfig defaults() {
    return new RegistryConfig("", true, 10_000, 2, 300_000, 5_000);
  }

  public RegistryConfig withPollIntervalMs(long ms) {
    return new RegistryConfig(dir, pull, ms, pullAttempts, downloadTimeoutMs, catalogCacheMs);
  }

  static RegistryConfig read(Node n) {
    RegistryConfig config = new RegistryConfig(
        n.string("dir", ""),
        n.bool("pull", true),
        n.integer("poll_interval_ms", 50L, 3_600_000L),
        n.integer("pull_attempts", 1, 20),
        n.integer("download_timeout_ms", 100L, 86_400_000L),
        n.integer("catalog_cache_ms", 0L, 3_600_000L));
    n.finish();
    return config;
  }
}
