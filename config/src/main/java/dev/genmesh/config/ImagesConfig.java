package dev.genmesh.config;

import dev.genmesh.config.impl.Node;
import java.util.Map;

/**
 * Where finished images live: an S3-compatible object store, one bucket per region
 * (docs/architecture.md, "Images"). Workers upload to it, the safety service and the regional API
 * read from it, and a sweeper in each region deletes the objects no completed request published.
 *
 * @param endpoint the S3 API's base URL ({@code http(s)://host:port}); empty: AWS S3's own endpoint
 *     for {@code signingRegion}. {@code genmesh up} sets its embedded store's
 * @param signingRegion the region the requests are signed for (AWS: the bucket's region; S3Proxy,
 *     MinIO: any, conventionally {@code us-east-1})
 * @param pathStyle {@code host/bucket/key} URLs rather than {@code bucket.host/key} (S3Proxy, MinIO)
 * @param bucket the bucket of each region; {@code {region}} is replaced by the region's name
 * @param credentialsFile a properties file with {@code access_key} and {@code secret_key}; empty:
 *     the environment ({@code GENMESH_S3_ACCESS_KEY}, {@code GENMESH_S3_SECRET_KEY}), else the AWS
 *     SDK's default chain (web identity, instance profile). Keys never live in a config file
 * @param keys the keys read from the environment by {@link ConfigLoader}; null when not set there
 * @param callTimeoutMs bound on one storage call (each retry of an upload is one call)
 * @param presignTtlMs how long a presigned GET (for the safety service, or an edge redirect) is valid
 * @param edgeDelivery how the edge serves an image: {@code proxy} (through the edge, default) or
 *     {@code redirect} (a 302 to a presigned URL of the store)
 * @param spoolDir where a worker keeps its images until they are uploaded; empty:
 *     {@code <data dir>/spool/<worker id>}
 * @param spoolMaxBytes a worker whose spool holds this much stops claiming until uploads catch up
 * @param uploadGiveUpMs a worker retries an upload this long, then reports the attempt failed
 * @param orphanGraceMs objects of attempts that were not published are deleted this long after
 *     their request ended
 * @param sweepIntervalMs how often each region node looks for such objects
 * @param regions per region overrides of {@code endpoint}, {@code signing_region} and {@code bucket}
 * @param copies copies of each completed request's images in another region's store
 */
public record ImagesConfig(
    String endpoint,
    String signingRegion,
    boolean pathStyle,
    String bucket,
    String credentialsFile,
    Keys keys,
    long callTimeoutMs,
    long presignTtlMs,
    EdgeDelivery edgeDelivery,
    String spoolDir,
    long spoolMaxBytes,
    long uploadGiveUpMs,
    long orphanGraceMs,
    long sweepIntervalMs,
    Map<String, RegionBucket> regions,
    Copies copies) {

  public static final String ACCESS_KEY_ENV = "GENMESH_S3_ACCESS_KEY";
  public static final String SECRET_KEY_ENV = "GENMESH_S3_SECRET_KEY";

  /** How the edge serves an image. */
  public enum EdgeDelivery {
    PROXY, REDIRECT;

    public String wireName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** An access key and its secret. {@code toString} does not show the secret. */
  public record Keys(String accessKey, String secretKey) {
    @Override
    public String toString() {
      return "Keys[accessKey=" + accessKey + ", secretKey=***]";
    }
  }

  /** A region's overrides; null fields take the section's value. */
  public record RegionBucket(String endpoint, String signingRegion, String bucket) {
    static RegionBucket read(Node n) {
      RegionBucket config = new RegionBucket(n.string("endpoint", null), n.string("signing_region", null),
          n.string("bucket", null));
      n.finish();
      return config;
    }
  }

  /**
   * Copies of completed requests' images in another region's store (docs/architecture.md, "Images
   * across regions"), so they stay downloadable while their region is down.
   *
   * @param to the region that holds this region's copies: a region name, {@code ring} (the next
   *     region in {@code regions:} order, the last one's copies going to the first) or {@code none}
   * @param bucket the bucket of copies a region holds for the others, on its own store
   *     ({@code {region}}: the holding region)
   * @param intervalMs how often each region node looks for completed requests not copied yet
   * @param batch requests copied per pass and batch
   */
  public record Copies(String to, String bucket, long intervalMs, int batch) {
    public static Copies defaults() {
      return new Copies("ring", "genmesh-{region}-copies", 2_000, 20);
    }

    static Copies read(Node n) {
      Copies config = new Copies(n.string("to", "ring"), n.string("bucket", "genmesh-{region}-copies"),
          n.integer("interval_ms", 100L, 3_600_000L, 2_000L), (int) n.integer("batch", 1L, 1_000L, 20L));
      n.finish();
      return config;
    }
  }

  /**
   * The region that holds {@code region}'s copies, or empty when none does ({@code to: none}, one
   * region only, or {@code to} naming the region itself).
   */
  public java.util.Optional<String> copyHolder(String region, java.util.List<String> regionNames) {
    String holder = switch (copies.to()) {
      case "none" -> null;
      case "ring" -> {
        int at = regionNames.indexOf(region);
        yield at < 0 || regionNames.size() < 2 ? null : regionNames.get((at + 1) % regionNames.size());
      }
      default -> copies.to();
    };
    return holder == null || holder.equals(region) ? java.util.Optional.empty() : java.util.Optional.of(holder);
  }

  /** The regions whose copies {@code holder} keeps. */
  public java.util.List<String> copiesHeldFor(String holder, java.util.List<String> regionNames) {
    return regionNames.stream().filter(r -> copyHolder(r, regionNames).filter(holder::equals).isPresent()).toList();
  }

  /** Every bucket the regions need: their own, and the buckets of copies of those that hold copies. */
  public java.util.List<String> allBuckets(java.util.List<String> regionNames) {
    java.util.List<String> out = new java.util.ArrayList<>();
    regionNames.forEach(r -> out.add(forRegion(r).bucket()));
    regionNames.stream().filter(r -> !copiesHeldFor(r, regionNames).isEmpty()).forEach(r -> out.add(copiesOf(r).bucket()));
    return out;
  }

  /** The bucket of copies {@code holder} keeps for the other regions, on {@code holder}'s store. */
  public Bucket copiesOf(String holder) {
    Bucket own = forRegion(holder);
    return new Bucket(holder, own.endpoint(), own.signingRegion(), pathStyle, copies.bucket().replace("{region}", holder),
        credentialsFile, keys, callTimeoutMs);
  }

  /** Everything a client of one region's bucket needs. */
  public record Bucket(String region, String endpoint, String signingRegion, boolean pathStyle, String bucket,
      String credentialsFile, Keys keys, long callTimeoutMs) {}

  public ImagesConfig {
    regions = Map.copyOf(regions);
  }

  /** The defaults of genmesh-defaults.yaml, for code that builds a configuration by hand. */
  public static ImagesConfig defaults() {
    return new ImagesConfig("", "us-east-1", true, "genmesh-{region}", "", null, 10_000, 60_000, EdgeDelivery.PROXY,
        "", 256L * 1024 * 1024, 600_000, 3_600_000, 60_000, Map.of(), Copies.defaults());
  }

  /** The bucket and endpoint of {@code region}, its overrides applied. */
  public Bucket forRegion(String region) {
    RegionBucket own = regions.getOrDefault(region, new RegionBucket(null, null, null));
    String name = (own.bucket() != null ? own.bucket() : bucket).replace("{region}", region);
    return new Bucket(region, own.endpoint() != null ? own.endpoint() : endpoint,
        own.signingRegion() != null ? own.signingRegion() : signingRegion, pathStyle, name, credentialsFile, keys,
        callTimeoutMs);
  }

  /**
   * Every region pointed at one path-style store (e.g. the embedded one of {@code genmesh up}),
   * signing with the keys in {@code file}; the regions keep their bucket names.
   */
  public ImagesConfig withStore(String newEndpoint, String file) {
    Map<String, RegionBucket> buckets = new java.util.LinkedHashMap<>();
    regions.forEach((region, own) -> {
      if (own.bucket() != null) {
        buckets.put(region, new RegionBucket(null, null, own.bucket()));
      }
    });
    return new ImagesConfig(newEndpoint, signingRegion, true, bucket, file, null, callTimeoutMs, presignTtlMs,
        edgeDelivery, spoolDir, spoolMaxBytes, uploadGiveUpMs, orphanGraceMs, sweepIntervalMs, buckets, copies);
  }

  /**
   * With {@code region}'s bucket (and the copies bucket it holds) on a store of its own at {@code newEndpoint}
   * ({@code images.regions.<region>.endpoint}), its other overrides kept.
   */
  public ImagesConfig withRegionEndpoint(String region, String newEndpoint) {
    Map<String, RegionBucket> buckets = new java.util.LinkedHashMap<>(regions);
    RegionBucket own = regions.getOrDefault(region, new RegionBucket(null, null, null));
    buckets.put(region, new RegionBucket(newEndpoint, own.signingRegion(), own.bucket()));
    return new ImagesConfig(endpoint, signingRegion, pathStyle, bucket, credentialsFile, keys, callTimeoutMs,
        presignTtlMs, edgeDelivery, spoolDir, spoolMaxBytes, uploadGiveUpMs, orphanGraceMs, sweepIntervalMs, buckets,
        copies);
  }

  public ImagesConfig withEdgeDelivery(EdgeDelivery delivery) {
    return new ImagesConfig(endpoint, signingRegion, pathStyle, bucket, credentialsFile, keys, callTimeoutMs,
        presignTtlMs, delivery, spoolDir, spoolMaxBytes, uploadGiveUpMs, orphanGraceMs, sweepIntervalMs, regions, copies);
  }

  public ImagesConfig withSweep(long newOrphanGraceMs, long newSweepIntervalMs) {
    return new ImagesConfig(endpoint, signingRegion, pathStyle, bucket, credentialsFile, keys, callTimeoutMs,
        presignTtlMs, edgeDelivery, spoolDir, spoolMaxBytes, uploadGiveUpMs, newOrphanGraceMs, newSweepIntervalMs,
        regions, copies);
  }

  public ImagesConfig withUploads(long newSpoolMaxBytes, long newUploadGiveUpMs, long newCallTimeoutMs) {
    return new ImagesConfig(endpoint, signingRegion, pathStyle, bucket, credentialsFile, keys, newCallTimeoutMs,
        presignTtlMs, edgeDelivery, spoolDir, newSpoolMaxBytes, newUploadGiveUpMs, orphanGraceMs, sweepIntervalMs,
        regions, copies);
  }

  /** With the keys of {@value #ACCESS_KEY_ENV} and {@value #SECRET_KEY_ENV} when {@code env} sets both. */
  ImagesConfig withKeysFrom(Map<String, String> env) {
    String access = env.getOrDefault(ACCESS_KEY_ENV, "");
    String secret = env.getOrDefault(SECRET_KEY_ENV, "");
    if (access.isBlank() && secret.isBlank()) {
      return this;
    }
    if (access.isBlank() || secret.isBlank()) {
      throw new ConfigException("images", ACCESS_KEY_ENV + " and " + SECRET_KEY_ENV + " must be set together");
    }
    return new ImagesConfig(endpoint, signingRegion, pathStyle, bucket, credentialsFile, new Keys(access, secret),
        callTimeoutMs, presignTtlMs, edgeDelivery, spoolDir, spoolMaxBytes, uploadGiveUpMs, orphanGraceMs,
        sweepIntervalMs, regions, copies);
  }

  /** With these copies settings. */
  public ImagesConfig withCopies(Copies newCopies) {
    return new ImagesConfig(endpoint, signingRegion, pathStyle, bucket, credentialsFile, keys, callTimeoutMs,
        presignTtlMs, edgeDelivery, spoolDir, spoolMaxBytes, uploadGiveUpMs, orphanGraceMs, sweepIntervalMs, regions,
        newCopies);
  }

  static ImagesConfig read(Node n) {
    String delivery = n.string("edge_delivery", "proxy");
    Map<String, RegionBucket> regions = n.optionalEntries("regions", RegionBucket::read);
    ImagesConfig config = new ImagesConfig(
        n.string("endpoint", ""),
        n.string("signing_region", "us-east-1"),
        n.bool("path_style", true),
        n.string("bucket", "genmesh-{region}"),
        n.string("credentials_file", ""),
        null,
        n.integer("call_timeout_ms", 100L, 600_000L, 10_000L),
        n.integer("presign_ttl_ms", 1_000L, 604_800_000L, 60_000L),
        switch (delivery) {
          case "proxy" -> EdgeDelivery.PROXY;
          case "redirect" -> EdgeDelivery.REDIRECT;
          default -> throw new ConfigException(n.keyPath("edge_delivery"), "must be proxy or redirect, got '" + delivery + "'");
        },
        n.string("spool_dir", ""),
        n.integer("spool_max_bytes", 1L << 20, 1L << 40, 256L << 20),
        n.integer("upload_give_up_ms", 1_000L, 86_400_000L, 600_000L),
        n.integer("orphan_grace_ms", 0L, 2_592_000_000L, 3_600_000L),
        n.integer("sweep_interval_ms", 100L, 86_400_000L, 60_000L),
        regions,
        n.has("copies") ? Copies.read(n.child("copies")) : Copies.defaults());
    n.finish();
    if (!config.endpoint.isEmpty() && !config.endpoint.matches("https?://[^/]+/?")) {
      throw new ConfigException(n.keyPath("endpoint"), "must be an http:// or https:// base URL without a path, got '"
          + config.endpoint + "'");
    }
    config.regions.forEach((region, own) -> {
      if (own.endpoint() != null && !own.endpoint().isEmpty() && !own.endpoint().matches("https?://[^/]+/?")) {
        throw new ConfigException(n.keyPath("regions." + region + ".endpoint"),
            "must be an http:// or https:// base URL without a path, got '" + own.endpoint() + "'");
      }
    });
    return config;
  }

  /** Every region's bucket name must be one S3 accepts, and copies must go to a known region. */
  void checkBuckets(Iterable<String> regionNames) {
    java.util.List<String> names = new java.util.ArrayList<>();
    regionNames.forEach(names::add);
    if (!copies.to().equals("ring") && !copies.to().equals("none") && !names.contains(copies.to())) {
      throw new ConfigException("images.copies.to", "must be ring, none or a region in regions " + names + ", got '"
          + copies.to() + "'");
    }
    for (String region : regionNames) {
      String copiesBucket = copies.bucket().replace("{region}", region);
      if (!copiesBucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]") || copiesBucket.equals(forRegion(region).bucket())) {
        throw new ConfigException("images.copies.bucket", "gives the bucket name '" + copiesBucket + "' for region "
            + region + ", which S3 does not accept or which is the region's own bucket");
      }
    }
    for (String region : regionNames) {
      String name = forRegion(region).bucket();
      if (!name.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
        throw new ConfigException(regions.containsKey(region) ? "images.regions." + region + ".bucket" : "images.bucket",
            "gives the bucket name '" + name + "' for region " + region
                + ", which S3 does not accept (3-63 lowercase letters, digits, dots and hyphens)");
      }
    }
    for (String region : regions.keySet()) {
      boolean known = false;
      for (String name : regionNames) {
        known |= name.equals(region);
      }
      if (!known) {
        throw new ConfigException("images.regions." + region, "is not a region in regions");
      }
    }
  }
}
