package dev.genmesh.launcher;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.inference.registry.ModelSource;
import dev.genmesh.inference.registry.RegistryModelSource;
import dev.genmesh.launcher.chaos.ModelFaults;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options every role shares: where its configuration and data live. */
final class CommonOptions {
  @Option(names = "--config", paramLabel = "FILE", description = "YAML file merged over the defaults (env GENMESH_A__B overrides both).")
  Path configFile;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "Where data is kept (default: $GENMESH_DATA_DIR or ~/.genmesh).")
  Path dataDir;

  @Option(names = "--bind", paramLabel = "HOST", defaultValue = "127.0.0.1", description = "Address for cluster and event-bus traffic (default: ${DEFAULT-VALUE}).")
  String bindHost;

  GenmeshConfig loadConfig() {
    return ConfigLoader.load(configFile, System.getenv());
  }

  /** The settings {@link #loadConfig} reads, as a tree (handed on to child processes). */
  java.util.Map<String, Object> loadTree() {
    return ConfigLoader.tree(configFile, System.getenv());
  }

  /** The config with only {@code names} of its regions (all when null or empty), in that order. */
  static GenmeshConfig onlyRegions(GenmeshConfig config, java.util.List<String> names) {
    if (names == null || names.isEmpty()) {
      return config;
    }
    java.util.Map<String, dev.genmesh.config.RegionConfig> selected = new java.util.LinkedHashMap<>();
    names.forEach(name -> selected.put(name, config.region(name)));
    return config.withRegions(selected);
  }

  /** Where a worker builds and caches models: {@code worker.model_dir}, else {@code <data dir>/models}. */
  static Path modelRoot(dev.genmesh.config.WorkerConfig worker, Path dataDir) {
    return worker.modelDir().isBlank() ? dataDir.resolve("models") : Path.of(worker.modelDir()).toAbsolutePath();
  }

  /** Where a worker keeps its images until uploaded: {@code images.spool_dir/<worker>}, else {@code <data dir>/spool/<worker>}. */
  static Path spoolDir(GenmeshConfig config, Path dataDir, String workerId) {
    String dir = config.images().spoolDir();
    return (dir.isBlank() ? dataDir.resolve("spool") : Path.of(dir).toAbsolutePath()).resolve(workerId);
  }

  /** Where the region registries live: {@code registry.dir}, else {@code <data dir>/registry}; one folder per region. */
  static Path registryRoot(GenmeshConfig config, Path dataDir) {
    return config.registry().dir().isBlank() ? dataDir.resolve("registry") : Path.of(config.registry().dir()).toAbsolutePath();
  }

  /** The model files of the region registries and the workers' cache, as {@code --chaos} corrupts them. */
  static ModelFaults modelFaults(GenmeshConfig config, Path dataDir) {
    return new ModelFaults(registryRoot(config, dataDir), modelRoot(config.worker(), dataDir));
  }

  /** A worker pulls from its region's registry unless {@code registry.pull} is false. */
  static ModelSource modelSource(GenmeshConfig config, String region, String workerId, Path modelRoot,
      MeterRegistry meters) {
    return config.registry().pull()
        ? new RegistryModelSource(config, region, workerId, modelRoot, meters)
        : ModelSource.local(config.models(), modelRoot);
  }

  Path dataDir() {
    if (dataDir != null) {
      return dataDir.toAbsolutePath();
    }
    String fromEnv = System.getenv("GENMESH_DATA_DIR");
    if (fromEnv != null && !fromEnv.isBlank()) {
      return Path.of(fromEnv).toAbsolutePath();
    }
    return Path.of(System.getProperty("user.home"), ".genmesh");
  }
}
