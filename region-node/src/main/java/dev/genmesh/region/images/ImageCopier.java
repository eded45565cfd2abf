package dev.genmesh.region.images;

import dev.genmesh.images.ImageStore;
import dev.genmesh.images.ImageStores;
import dev.genmesh.protocol.StoredImage;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.requests.RequestRow;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies each completed request's published images, then a {@link CopyManifest}, into the bucket
 * of copies its holding region keeps on its own store (docs/architecture.md, "Images across
 * regions"), so the images stay downloadable while this region is down. Asynchronous: the copy
 * lags the completion by about {@code images.copies.interval_ms} (the image RPO), shown by the
 * {@code genmesh.images.copies.lag} gauge. Requests are taken with {@code FOR UPDATE SKIP LOCKED}
 * and held for a while, so the nodes of a region share the work and a node that dies mid-copy
 * lets its requests go; a failed copy is taken again on the next pass. Only COMPLETED requests'
 * published images are copied: nothing another region holds was not already public.
 */
public final class ImageCopier {
  private static final Logger LOG = LoggerFactory.getLogger(ImageCopier.class);
  static final int MAX_BATCHES_PER_PASS = 10;

  private record Completed(String id, Instant completedAt, List<StoredImage> images) {}

  private final Vertx vertx;
  private final String region;
  private final String holder;
  private final Pool pool;
  private final ImageStore source;
  private final ImageStore copies;
  private final Clock clock;
  private final long intervalMs;
  private final int batch;
  private final long holdMs;
  private final Counter copied;
  private final Counter failed;
  private final AtomicLong lagMs = new AtomicLong();
  private long timer = -1;
  private boolean inFlight;
  private boolean failing;

  /**
   * @param source this region's bucket
   * @param copies the holder's bucket of copies (on the holder's store)
   */
  public ImageCopier(RegionContext ctx, Pool pool, ImageStore source, String holder, ImageStore copies) {
    this.vertx = ctx.vertx();
    this.region = ctx.region();
    this.holder = holder;
    this.pool = pool;
    this.source = source;
    this.copies = copies;
    this.clock = ctx.clock();
    this.intervalMs = ctx.config().images().copies().intervalMs();
    this.batch = ctx.config().images().copies().batch();
    // Each image and the manifest are one call each; a pass over one batch gets that long.
    this.holdMs = ctx.config().images().callTimeoutMs() * 3L + intervalMs;
    this.copied = Counter.builder("genmesh.images.copies")
        .description("completed requests whose images were copied to the holding region's bucket of copies")
        .tag("region", region).tag("holder", holder).register(ctx.meters());
    this.failed = Counter.builder("genmesh.images.copies.failed")
        .description("copies of a completed request's images that failed (taken again on a later pass)")
        .tag("region", region).tag("holder", holder).register(ctx.meters());
    Gauge.builder("genmesh.images.copies.lag", lagMs, ms -> ms.get() / 1000.0).baseUnit("seconds")
        .description("age of the oldest completion whose images are not copied yet (0: none waits)")
        .tag("region", region).tag("holder", holder).register(ctx.meters());
  }

  public void start() {
    LOG.info("region {}: copies of completed images go to {}'s bucket {}", region, holder, copies.bucket());
    timer = vertx.setPeriodic(intervalMs, id -> {
      if (!inFlight) {
        inFlight = true;
        copy().onComplete(ar -> inFlight = false);
      }
    });
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  /** One pass; answers how many requests it copied. Never fails (failures are logged once per streak and counted). */
  public Future<Integer> copy() {
    return copyBatches(0, 0)
        .compose(n -> measureLag().map(n))
        .recover(err -> {
          trouble("pass failed", err);
          return Future.succeededFuture(0);
        });
  }

  private Future<Integer> copyBatches(int batches, int soFar) {
    if (batches >= MAX_BATCHES_PER_PASS) {
      return Future.succeededFuture(soFar);
    }
    return take().compose(taken -> {
      Future<Integer> chain = Future.succeededFuture(0);
      for (Completed request : taken) {
        chain = chain.compose(sum -> copyOne(request).map(ok -> ok ? sum + 1 : sum));
      }
      return chain.compose(n -> taken.size() == batch ? copyBatches(batches + 1, soFar + n)
          : Future.succeededFuture(soFar + n));
    });
  }

  /** The images, then the manifest, then the row marked; answers false (and leaves the row for later) on failure. */
  private Future<Boolean> copyOne(Completed request) {
    Future<Void> chain = Future.succeededFuture();
    for (StoredImage image : request.images()) {
      chain = chain.compose(v -> source.get(image.key()))
          .compose(bytes -> copies.put(image.key(), bytes, ImageStores.PNG, ImageStores.IMMUTABLE))
          .mapEmpty();
    }
    CopyManifest manifest = new CopyManifest(request.id(), region, request.completedAt(), request.images());
    return chain
        .compose(v -> copies.put(CopyManifest.key(request.id()), manifest.toBuffer(), "application/json", null))
        .compose(v -> pool.preparedQuery("UPDATE requests SET images_copied_at = $2, images_copy_until = NULL WHERE id = $1")
            .execute(Tuple.of(request.id(), clock.instant().atOffset(ZoneOffset.UTC))))
        .map(v -> {
          copied.increment();
          if (failing) {
            failing = false;
            LOG.info("region {}: copies to {} work again", region, holder);
          }
          LOG.debug("[{}] images copied to {}", request.id(), holder);
          return true;
        })
        .recover(err -> {
          failed.increment();
          trouble("[" + request.id() + "] images not copied, trying again on the next pass", err);
          return pool.preparedQuery("UPDATE requests SET images_copy_until = NULL WHERE id = $1 AND images_copied_at IS NULL")
              .execute(Tuple.of(request.id())).map(false).otherwise(false);
        });
  }

  /** Holds up to a batch of completed, uncopied requests (oldest completion first) and answers them. */
  private Future<List<Completed>> take() {
    Instant now = clock.instant();
    return pool.preparedQuery("UPDATE requests SET images_copy_until = $2 WHERE id IN ("
            + " SELECT id FROM requests WHERE status = 'COMPLETED' AND images_copied_at IS NULL"
            + " AND (images_copy_until IS NULL OR images_copy_until < $1)"
            + " ORDER BY completed_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)"
            + " RETURNING id, completed_at, images")
        .execute(Tuple.of(now.atOffset(ZoneOffset.UTC), now.plusMillis(holdMs).atOffset(ZoneOffset.UTC), batch))
        .map(rows -> {
          List<Completed> out = new ArrayList<>(rows.size());
          for (Row row : rows) {
            Object images = row.getValue("images");
            out.add(new Completed(row.getString("id"), RequestRow.instant(row, "completed_at"),
                images instanceof JsonArray array ? StoredImage.fromJson(array) : List.of()));
          }
          return out;
        });
  }

  private Future<Void> measureLag() {
    return pool.preparedQuery("SELECT min(completed_at) AS oldest FROM requests"
            + " WHERE status = 'COMPLETED' AND images_copied_at IS NULL")
        .execute()
        .map(rows -> {
          Instant oldest = RequestRow.instant(rows.iterator().next(), "oldest");
          lagMs.set(oldest == null ? 0 : Math.max(0, clock.millis() - oldest.toEpochMilli()));
          return null;
        });
  }

  /** Logs the first failure of a streak at WARN (the rest at DEBUG): one report per outage. */
  private void trouble(String what, Throwable err) {
    if (!failing) {
      failing = true;
      LOG.warn("region {}: {} (copies to {}; further failures logged at debug until they work again): {}", region, what,
          holder, err.toString());
    } else {
      LOG.debug("region {}: {}: {}", region, what, err.toString());
    }
  }
}
