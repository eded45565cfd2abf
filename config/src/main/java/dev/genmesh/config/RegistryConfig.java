package dev.genmesh.config;

import dev.genmesh.config.impl.Node;

/**
 * The model registry: where each region node keeps the models it serves, how workers pull from
 * it, and how the regions share models (inference-verticle/MODEL.md, "Registry"): versions are
 * published into the primary region's registry, the other regions pull and cache them.
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
 * @param primary the region whose registry takes publishes; the others mirror it. Empty: no
 *     primary, every region's registry stands alone (publish into each)
 * @param mirrorIntervalMs how often a non-primary region asks the primary what it holds
 * @param pullWaitMs how long a request for a version the region does not hold waits for the
 *     pull it starts before it is answered 503 with Retry-After
 * @param seedAllRegions {@code genmesh up} publishes the bundled models into every region's
 *     registry itself instead of into the primary only
 */
public record RegistryConfig(
    String dir,
    boolean pull,
    long pollIntervalMs,
    int pullAttempts,
    long downloadTimeoutMs,
    long catalogCacheMs,
    String primary,
    long mirrorIntervalMs,
    long pullWaitMs,
    boolean seedAllRegions) {

  /** The defaults of genmesh-defaults.yaml, for code that builds a configuration by hand. */
  public static RegistryConfig defaults() {
    return new RegistryConfig("", true, 10_000, 2, 300_000, 5_000, "us-west", 30_000, 5_000, false);
  }

  public RegistryConfig withPollIntervalMs(long ms) {
    return new RegistryConfig(dir, pull, ms, pullAttempts, downloadTimeoutMs, catalogCacheMs, primary, mirrorIntervalMs,
        pullWaitMs, seedAllRegions);
  }

  public RegistryConfig withDir(String newDir) {
    return new RegistryConfig(newDir, pull, pollIntervalMs, pullAttempts, downloadTimeoutMs, catalogCacheMs, primary,
        mirrorIntervalMs, pullWaitMs, seedAllRegions);
  }

  /** Another primary (empty: none), another mirror interval. */
  public RegistryConfig withPrimary(String newPrimary, long newMirrorIntervalMs) {
    return new RegistryConfig(dir, pull, pollIntervalMs, pullAttempts, downloadTimeoutMs, catalogCacheMs, newPrimary,
        newMirrorIntervalMs, pullWaitMs, seedAllRegions);
  }

  /** True when {@code region} mirrors another region's registry rather than taking publishes. */
  public boolean mirrors(String region) {
    return !primary.isEmpty() && !primary.equals(region);
  }

  static RegistryConfig read(Node n) {
    RegistryConfig config = new RegistryConfig(
        n.string("dir", ""),
        n.bool("pull", true),
        n.integer("poll_interval_ms", 50L, 3_600_000L),
        n.integer("pull_attempts", 1, 20),
        n.integer("download_timeout_ms", 100L, 86_400_000L),
        n.integer("catalog_cache_ms", 0L, 3_600_000L),
        n.string("primary", "us-west"),
        n.integer("mirror_interval_ms", 50L, 86_400_000L),
        n.integer("pull_wait_ms", 0L, 60_000L),
        n.bool("seed_all_regions", false));
    n.finish();
    return config;
  }

  /** The registry folder of {@code region} ({@code <dir>/<region>}); null when {@code dir} is empty (the caller's default). */
  public java.nio.file.Path regionDir(String region) {
    return dir.isBlank() ? null : java.nio.file.Path.of(dir).resolve(region);
  }
}
