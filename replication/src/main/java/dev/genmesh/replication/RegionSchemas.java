package dev.genmesh.replication;

/**
 * Where a region's tables live: a PostgreSQL schema named after the region ({@code us-west} →
 * {@code us_west}), so that a peer's database can hold a replica of them beside its own, under
 * the same schema-qualified names (what logical replication needs).
 */
public final class RegionSchemas {
  private RegionSchemas() {}

  /** The schema of {@code region}'s tables. */
  public static String schemaOf(String region) {
    String schema = region.toLowerCase(java.util.Locale.ROOT).replace('-', '_');
    if (!schema.matches("[a-z_][a-z0-9_]{0,40}")) {
      throw new IllegalArgumentException("region name " + region + " does not make a plain schema name");
    }
    return schema;
  }

  /** The publication of {@code region}'s tables in its own database, and the subscription (and slot) of its replica. */
  public static String channelOf(String region) {
    return "genmesh_" + schemaOf(region);
  }
}
