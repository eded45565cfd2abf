package dev.genmesh.launcher.impl;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.registry.RegistryRoutes;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The registry a {@code genmesh model publish|rollback} writes to, and whether it may: with a
 * primary ({@code registry.primary}), only the primary's registry takes changes, and only while
 * its region node answers; the other regions pull from it (inference-verticle/MODEL.md, "Across
 * regions").
 *
 * @param region the configured region whose registry {@code dir} is; null: a folder of no region
 */
public record RegistryTarget(Path dir, String region) {
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);

  /**
   * @param registryDir {@code --registry}: a folder, which is a region's when it is
   *     {@code <registry root>/<region>}
   * @param regionName {@code --region}; with neither, the primary
   */
  public static RegistryTarget of(GenmeshConfig config, Path registryRoot, Path registryDir, String regionName) {
    if (registryDir != null && regionName != null) {
      throw new IllegalArgumentException("give --registry or --region, not both");
    }
    Path root = registryRoot.toAbsolutePath().normalize();
    if (registryDir != null) {
      Path dir = registryDir.toAbsolutePath().normalize();
      String region = config.regions().keySet().stream().filter(r -> root.resolve(r).equals(dir)).findFirst().orElse(null);
      return new RegistryTarget(dir, region);
    }
    String region = regionName != null ? regionName : config.registry().primary();
    if (region.isEmpty()) {
      throw new IllegalArgumentException("registry.primary is empty (every region's registry stands alone): name one with"
          + " --region, or a folder with --registry");
    }
    config.region(region); // an unknown region fails here, naming the known ones
    return new RegistryTarget(root.resolve(region), region);
  }

  /**
   * Why this target must not be changed, with where to go instead; empty when it may: a folder
   * of no region, a mesh without a primary, or the primary while its region node answers.
   */
  public Optional<String> refusal(GenmeshConfig config, String retry) {
    String primary = config.registry().primary();
    if (region == null || primary.isEmpty()) {
      return Optional.empty();
    }
    String primaryUrl = config.regions().containsKey(primary) ? config.region(primary).effectiveApiUrl() : "(not configured)";
    String promote = "to make another region the primary, set registry.primary in your config (or"
        + " GENMESH_REGISTRY__PRIMARY=<region>) and restart the region nodes; the regions then pull from it";
    if (!region.equals(primary)) {
      return Optional.of(region + " does not take publishes: models are published into the primary registry, " + primary
          + " (" + primaryUrl + "), and the other regions pull them from it (registry.mirror_interval_ms).\n"
          + "  publish there:  " + retry.replace("REGION", primary) + "\n"
          + "  " + promote.replace("<region>", region) + ".");
    }
    Optional<String> away = probe(config.region(primary));
    return away.map(why -> "the primary registry " + primary + " (" + primaryUrl + ") does not answer (" + why
        + "): nothing was changed. The other regions keep serving the versions they hold.\n"
        + "  retry when it is back:  " + retry.replace("REGION", primary) + "\n"
        + "  or " + promote + ", then run the command with --region <that region>.");
  }

  /** Empty when the region's registry listing answers 200; else why not. */
  private static Optional<String> probe(RegionConfig region) {
    HttpClient client = HttpClient.newBuilder().connectTimeout(PROBE_TIMEOUT).build();
    HttpRequest request = HttpRequest.newBuilder(URI.create(region.effectiveApiUrl() + RegistryRoutes.MODELS))
        .timeout(PROBE_TIMEOUT).GET().build();
    try {
      int status = client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
      return status == 200 ? Optional.empty() : Optional.of("its registry answered " + status);
    } catch (IOException e) {
      return Optional.of(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted");
    }
  }
}
