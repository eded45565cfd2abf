package dev.genmesh.config;

import dev.genmesh.config.impl.Node;
import java.util.List;
import java.util.Optional;

/**
 * Disaster recovery (docs/dr.md): backups of PostgreSQL (base backups plus the archived WAL, for
 * point-in-time restores) and of Redis, their retention, their copy to another region's object
 * store, and the recovery targets.
 *
 * @param backupIntervalMs how often a base backup of PostgreSQL (and a copy of Redis's files) is taken
 * @param backupRetention base backups kept; the archived WAL older than the oldest kept one is deleted
 * @param rpoTargetMs the recovery point objective the drills are measured against
 * @param rtoTargetMs the recovery time objective the drills are measured against
 * @param backupDir where backups are kept; empty: {@code <data dir>/backups}
 * @param walSwitchMs a partly filled WAL segment is closed and archived after this long
 *     (PostgreSQL's {@code archive_timeout}): the bound on what a lost disk loses
 * @param redisRetentionMs copies of Redis's snapshot and append-only file are kept this long
 * @param copyTo the region whose object store holds a copy of the backups: a region name,
 *     {@code ring} (the next region in {@code regions:} order) or {@code none}
 * @param copyBucket the bucket of that copy on the holder's store; {@code {region}}: the region
 *     whose backups it holds
 * @param copyIntervalMs how often new backup files (WAL segments above all) are copied there
 */
public record DrConfig(long backupIntervalMs, int backupRetention, long rpoTargetMs, long rtoTargetMs,
    String backupDir, long walSwitchMs, long redisRetentionMs, String copyTo, String copyBucket, long copyIntervalMs) {

  public DrConfig(long backupIntervalMs, int backupRetention, long rpoTargetMs, long rtoTargetMs) {
    this(backupIntervalMs, backupRetention, rpoTargetMs, rtoTargetMs, "", 30_000, 604_800_000, "ring",
        "genmesh-{region}-backups", 30_000);
  }

  static DrConfig read(Node n) {
    DrConfig config = new DrConfig(
        n.integer("backup_interval_ms", 1000L, 604_800_000L),
        n.integer("backup_retention", 1, 10_000),
        n.integer("rpo_target_ms", 0L, 86_400_000L),
        n.integer("rto_target_ms", 0L, 86_400_000L),
        n.string("backup_dir", ""),
        n.integer("wal_switch_ms", 1000L, 86_400_000L, 30_000L),
        n.integer("redis_retention_ms", 60_000L, 31_536_000_000L, 604_800_000L),
        n.string("copy_to", "ring"),
        n.string("copy_bucket", "genmesh-{region}-backups"),
        n.integer("copy_interval_ms", 1000L, 86_400_000L, 30_000L));
    String probe = config.copyBucket.replace("{region}", "us-west");
    if (!probe.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
      throw new ConfigException(n.keyPath("copy_bucket"), "must make an S3 bucket name (lowercase letters, digits,"
          + " dots and dashes) once {region} is replaced, got '" + config.copyBucket + "'");
    }
    n.finish();
    return config;
  }

  /**
   * The region whose store holds {@code region}'s backup copy, or empty when none does
   * ({@code copy_to: none}, a single region, or {@code copy_to} naming the region itself).
   */
  public Optional<String> copyHolder(String region, List<String> regionNames) {
    String holder = switch (copyTo) {
      case "none" -> null;
      case "ring" -> {
        int at = regionNames.indexOf(region);
        yield at < 0 || regionNames.size() < 2 ? null : regionNames.get((at + 1) % regionNames.size());
      }
      default -> copyTo;
    };
    return holder == null || holder.equals(region) ? Optional.empty() : Optional.of(holder);
  }

  /** Backups must be copied to a known region (or to none, or along the ring). */
  void checkCopyTo(java.util.Collection<String> regionNames) {
    if (!copyTo.equals("ring") && !copyTo.equals("none") && !regionNames.contains(copyTo)) {
      throw new ConfigException("dr.copy_to", "must be ring, none or a region in regions " + regionNames + ", got '"
          + copyTo + "'");
    }
  }

  /** The copy's bucket for {@code region}'s backups. */
  public String copyBucketOf(String region) {
    return copyBucket.replace("{region}", region);
  }
}
