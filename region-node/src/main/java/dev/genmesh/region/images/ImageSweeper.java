package dev.genmesh.region.images;

import dev.genmesh.images.ImageKeys;
import dev.genmesh.images.ImageStore;
import dev.genmesh.images.ObjectInfo;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.protocol.StoredImage;
import dev.genmesh.region.node.RegionContext;
import io.micrometer.core.instrument.Counter;
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
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the objects no completed request published (docs/architecture.md, "Images"): every
 * attempt uploads under its own keys, and only the attempt that reached SAFETY_PENDING has its keys
 * recorded. Once a request has ended longer than {@code images.orphan_grace_ms} ago, one pass lists
 * its prefix and deletes every object but the recorded ones of a COMPLETED request (all of them
 * for a failed or cancelled one), then marks the row swept. Requests are taken with
 * {@code FOR UPDATE SKIP LOCKED}, so the nodes of a region share the work; a request whose objects
 * could not be deleted is taken again on a later pass. The grace leaves time for a late upload to
 * land before its prefix is listed; what lands later still is deleted by its own worker, which the
 * region answers {@code STALE_ATTEMPT}.
 */
public final class ImageSweeper {
  private static final Logger LOG = LoggerFactory.getLogger(ImageSweeper.class);
  static final int BATCH = 50;
  static final int MAX_BATCHES_PER_PASS = 20;
  private static final String ENDED = "('COMPLETED', 'FAILED', 'CANCELLED', 'ADOPTED')"; // ADOPTED: its peer ran it

  private record Ended(String id, RequestStatus status, List<StoredImage> published) {}

  private final Vertx vertx;
  private final String region;
  private final Pool pool;
  private final ImageStore images;
  private final Clock clock;
  private final long graceMs;
  private final long intervalMs;
  private final Counter deleted;
  private long timer = -1;
  private boolean inFlight;

  public ImageSweeper(RegionContext ctx, Pool pool, ImageStore images) {
    this.vertx = ctx.vertx();
    this.region = ctx.region();
    this.pool = pool;
    this.images = images;
    this.clock = ctx.clock();
    this.graceMs = ctx.config().images().orphanGraceMs();
    this.intervalMs = ctx.config().images().sweepIntervalMs();
    this.deleted = Counter.builder("genmesh.images.orphans.deleted")
        .description("objects of attempts no completed request published, deleted by the image sweeper")
        .tag("region", region).register(ctx.meters());
  }

  public void start() {
    timer = vertx.setPeriodic(intervalMs, id -> {
      if (!inFlight) {
        inFlight = true;
        sweep().onComplete(ar -> inFlight = false);
      }
    });
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  /** One pass; answers how many objects it deleted. Never fails (a failed pass is logged and counted). */
  public Future<Integer> sweep() {
    return sweepBatches(0, 0).recover(err -> {
      LOG.debug("region {}: image sweep failed: {}", region, err.toString());
      return Future.succeededFuture(0);
    });
  }

  private Future<Integer> sweepBatches(int batches, int deletedSoFar) {
    if (batches >= MAX_BATCHES_PER_PASS) {
      return Future.succeededFuture(deletedSoFar);
    }
    Instant now = clock.instant();
    return take(now.minusMillis(graceMs), now).compose(ended -> {
      Future<Integer> chain = Future.succeededFuture(0);
      for (Ended request : ended) {
        chain = chain.compose(sum -> sweepOne(request).map(n -> sum + n));
      }
      return chain.compose(n -> ended.size() == BATCH
          ? sweepBatches(batches + 1, deletedSoFar + n)
          : Future.succeededFuture(deletedSoFar + n));
    });
  }

  /** Deletes the request's unpublished objects; on failure, the row is left for a later pass. */
  private Future<Integer> sweepOne(Ended request) {
    Set<String> keep = new HashSet<>();
    if (request.status() == RequestStatus.COMPLETED) {
      request.published().forEach(image -> keep.add(image.key()));
    }
    return images.list(ImageKeys.requestPrefix(request.id()))
        .compose(found -> {
          List<String> orphans = found.stream().map(ObjectInfo::key).filter(key -> !keep.contains(key)).toList();
          return orphans.isEmpty() ? Future.succeededFuture(0) : images.delete(orphans).map(v -> {
            deleted.increment(orphans.size());
            LOG.debug("region {}: request {} ({}): deleted {} unpublished object(s)", region, request.id(),
                request.status().wireName(), orphans.size());
            return orphans.size();
          });
        })
        .recover(err -> {
          LOG.warn("region {}: objects of request {} not swept, trying again later: {}", region, request.id(),
              err.toString());
          return pool.preparedQuery("UPDATE requests SET images_swept_at = NULL WHERE id = $1")
              .execute(Tuple.of(request.id())).map(0).otherwise(0);
        });
  }

  /** Marks up to {@link #BATCH} ended, unswept requests swept (oldest first) and answers them. */
  private Future<List<Ended>> take(Instant endedBefore, Instant now) {
    return pool.preparedQuery("UPDATE requests SET images_swept_at = $2 WHERE id IN ("
            + " SELECT id FROM requests WHERE images_swept_at IS NULL AND status IN " + ENDED + " AND updated_at <= $1"
            + " ORDER BY updated_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)"
            + " AND images_swept_at IS NULL RETURNING id, status, images")
        .execute(Tuple.of(endedBefore.atOffset(ZoneOffset.UTC), now.atOffset(ZoneOffset.UTC), BATCH))
        .map(rows -> {
          List<Ended> out = new ArrayList<>(rows.size());
          for (Row row : rows) {
            Object published = row.getValue("images");
            out.add(new Ended(row.getString("id"), RequestStatus.valueOf(row.getString("status")),
                published instanceof JsonArray array ? StoredImage.fromJson(array) : List.of()));
          }
          return out;
        });
  }
}
