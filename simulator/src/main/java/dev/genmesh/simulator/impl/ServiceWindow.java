package dev.genmesh.simulator.impl;

/**
 * A pool's measured service time as the region node measures it (docs/autoscaling.md, "In the
 * region node"): the mean generation time of the requests of the last 10 minutes, 0 when there
 * were none. Kept in 10 s buckets, so a day of millions of requests costs a few sums per tick.
 */
final class ServiceWindow {
  static final double WINDOW_S = 600;
  private static final double BUCKET_S = 10;
  private static final int BUCKETS = (int) (WINDOW_S / BUCKET_S);

  private final long[] bucketOf = new long[BUCKETS];
  private final double[] sum = new double[BUCKETS];
  private final long[] count = new long[BUCKETS];

  ServiceWindow() {
    java.util.Arrays.fill(bucketOf, Long.MIN_VALUE);
  }

  void add(double now, double seconds) {
    long bucket = (long) Math.floor(now / BUCKET_S);
    int slot = (int) Math.floorMod(bucket, (long) BUCKETS);
    if (bucketOf[slot] != bucket) {
      bucketOf[slot] = bucket;
      sum[slot] = 0;
      count[slot] = 0;
    }
    sum[slot] += seconds;
    count[slot]++;
  }

  /** Mean of the last {@link #WINDOW_S} seconds; 0 without any request in them. */
  double mean(double now) {
    long newest = (long) Math.floor(now / BUCKET_S);
    double total = 0;
    long n = 0;
    for (int slot = 0; slot < BUCKETS; slot++) {
      if (bucketOf[slot] > newest - BUCKETS) {
        total += sum[slot];
        n += count[slot];
      }
    }
    return n == 0 ? 0 : total / n;
  }
}
