package dev.genmesh.launcher.scaling.impl;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ImagesConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.config.WorkerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The configuration a worker process of {@code genmesh up --autoscale} starts with: the settings
 * the mesh was started from (defaults, file, environment) with what the running mesh changed
 * written over them (its regions with their real HTTP and cluster ports and the embedded stores'
 * endpoints; regions of the bundled defaults it does not run stay in, unused by a worker), as one YAML file. The file is the whole truth for the child: it gets no
 * {@code GENMESH_*} variables. Written once per region, and read back here before any worker
 * uses it, so a setting the file fails to carry is caught at the first scale-up, not in a worker log.
 */
public final class WorkerConfigFile {
  private WorkerConfigFile() {}

  /**
   * Writes {@code <dir>/<region>-worker.yaml} and returns its path.
   *
   * @param source the settings tree the mesh's config was loaded from ({@link ConfigLoader#tree})
   * @param running the configuration as running (after port and endpoint rewrites)
   */
  public static Path write(Path dir, Map<String, Object> source, GenmeshConfig running, String region) {
    return write(dir, source, running, region, region + "-worker.yaml",
        "genmesh up --autoscale for its worker processes of " + region);
  }

  /** As above, into {@code <dir>/<fileName>}, its first line naming {@code purpose} (e.g. a region's processes). */
  public static Path write(Path dir, Map<String, Object> source, GenmeshConfig running, String region, String fileName,
      String purpose) {
    Map<String, Object> tree = deepCopy(source);
    Map<String, Object> regions = new LinkedHashMap<>();
    running.regions().values().forEach(r -> regions.put(r.name(), regionTree(r, subtree(source, "regions", r.name()))));
    tree.put("regions", regions);
    tree.put("images", imagesTree(running.images()));
    // Any free port: several workers share this machine.
    child(tree, "worker").put("http_port", 0);
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    Path file = dir.resolve(fileName);
    try {
      Files.createDirectories(dir);
      ownerOnly(file);
      Files.writeString(file, "# Written by " + purpose + "; rewritten at each start.\n" + new Yaml(options).dump(tree));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the worker configuration " + file, e);
    }
    check(file, running, region);
    return file;
  }

  /** The settings may carry passwords and keys (from the environment): an empty file readable by this user alone. */
  private static void ownerOnly(Path file) throws IOException {
    Files.deleteIfExists(file);
    if (Files.getFileStore(file.getParent()).supportsFileAttributeView(PosixFileAttributeView.class)) {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }
  }

  private static Map<String, Object> regionTree(RegionConfig r, Map<String, Object> declared) {
    Map<String, Object> out = deepCopy(declared);
    out.put("code", r.code());
    out.put("http_host", r.httpHost());
    out.put("http_port", r.httpPort());
    out.put("api_url", r.apiUrl());
    out.put("cluster_port", r.clusterPort());
    out.put("cluster_members", List.copyOf(r.clusterMembers()));
    Map<String, Object> pg = child(out, "postgres");
    pg.put("host", r.postgres().host());
    pg.put("port", r.postgres().port());
    pg.put("database", r.postgres().database());
    pg.put("user", r.postgres().user());
    pg.put("password", r.postgres().password());
    pg.put("pool_size", r.postgres().poolSize());
    Map<String, Object> redis = child(out, "redis");
    redis.put("url", r.redis().url());
    redis.put("key_prefix", r.redis().keyPrefix());
    if (r.redis().viaSentinel()) {
      redis.put("sentinels", r.redis().sentinels());
      redis.put("master_name", r.redis().masterName());
    }
    return out;
  }

  /** The object store as running (the embedded one's endpoint and key file); keys from the environment are not written. */
  private static Map<String, Object> imagesTree(ImagesConfig images) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("endpoint", images.endpoint());
    out.put("signing_region", images.signingRegion());
    out.put("path_style", images.pathStyle());
    out.put("bucket", images.bucket());
    out.put("credentials_file", images.credentialsFile());
    out.put("call_timeout_ms", images.callTimeoutMs());
    out.put("presign_ttl_ms", images.presignTtlMs());
    out.put("edge_delivery", images.edgeDelivery().wireName());
    out.put("spool_dir", images.spoolDir());
    out.put("spool_max_bytes", images.spoolMaxBytes());
    out.put("upload_give_up_ms", images.uploadGiveUpMs());
    out.put("orphan_grace_ms", images.orphanGraceMs());
    out.put("sweep_interval_ms", images.sweepIntervalMs());
    Map<String, Object> copies = new LinkedHashMap<>();
    copies.put("to", images.copies().to());
    copies.put("bucket", images.copies().bucket());
    copies.put("interval_ms", images.copies().intervalMs());
    copies.put("batch", images.copies().batch());
    out.put("copies", copies);
    Map<String, Object> regions = new LinkedHashMap<>();
    images.regions().forEach((region, own) -> {
      Map<String, Object> overrides = new LinkedHashMap<>();
      if (own.endpoint() != null) {
        overrides.put("endpoint", own.endpoint());
      }
      if (own.signingRegion() != null) {
        overrides.put("signing_region", own.signingRegion());
      }
      if (own.bucket() != null) {
        overrides.put("bucket", own.bucket());
      }
      regions.put(region, overrides);
    });
    out.put("regions", regions);
    return out;
  }

  /** The worker reads its region and the worker, model, registry and image settings: they must load back as running. */
  private static void check(Path file, GenmeshConfig running, String region) {
    GenmeshConfig reloaded = ConfigLoader.load(file, Map.of());
    boolean same = reloaded.region(region).equals(running.region(region))
        && reloaded.models().equals(running.models())
        && reloaded.registry().equals(running.registry())
        && reloaded.images().forRegion(region).equals(running.images().forRegion(region))
        && anyPort(reloaded.worker()).equals(anyPort(running.worker()))
        && reloaded.autoscaling().drainDeadlineMs() == running.autoscaling().drainDeadlineMs();
    if (!same) {
      throw new IllegalStateException("the worker configuration " + file + " does not load back as the running"
          + " configuration of " + region);
    }
  }

  private static WorkerConfig anyPort(WorkerConfig w) {
    return new WorkerConfig(w.gpuClass(), w.vramMb(), w.models(), w.modelDir(), w.intraOpThreads(), w.interOpThreads(),
        w.heartbeatIntervalMs(), w.claimPollMs(), w.maxBatchImages(), w.visibleDevices(), w.allowGrowth(),
        w.maxConsecutiveGpuErrors(), 0);
  }

  private static Map<String, Object> subtree(Map<String, Object> tree, String section, String name) {
    Object level = tree.get(section);
    if (level instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        if (normalise(String.valueOf(entry.getKey())).equals(normalise(name)) && entry.getValue() instanceof Map<?, ?>) {
          @SuppressWarnings("unchecked")
          Map<String, Object> found = (Map<String, Object>) entry.getValue();
          return found;
        }
      }
    }
    return Map.of();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> child(Map<String, Object> tree, String key) {
    Object existing = tree.get(key);
    if (existing instanceof Map) {
      return (Map<String, Object>) existing;
    }
    Map<String, Object> created = new LinkedHashMap<>();
    tree.put(key, created);
    return created;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> deepCopy(Map<String, Object> tree) {
    Map<String, Object> copy = new LinkedHashMap<>();
    tree.forEach((key, value) -> copy.put(key, value instanceof Map ? deepCopy((Map<String, Object>) value) : value));
    return copy;
  }

  private static String normalise(String key) {
    return key.toLowerCase(Locale.ROOT).replace('-', '_');
  }
}
