package dev.genmesh.inference.impl;

import dev.genmesh.images.ImageKeys;
import dev.genmesh.images.ImageStore;
import dev.genmesh.images.ImageStores;
import dev.genmesh.protocol.StoredImage;
import dev.genmesh.registry.Sha256;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's finished images on their way to the region's object store (inference-verticle/WORKER.md,
 * "Images"). A batch hands a request's PNGs over and goes on: they are hashed and written to the
 * worker's local spool on the I/O pool, then uploaded under attempt-scoped keys
 * ({@link ImageKeys}), each retried with backoff until the store takes it or
 * {@code images.upload_give_up_ms} passes. A slow or absent store thus never holds the TensorFlow
 * thread; only a spool holding more than {@code images.spool_max_bytes} stops the worker claiming
 * ({@link #hasRoom}). Event loop only, except the pool work.
 */
public final class ImageUploads {
  private static final Logger LOG = LoggerFactory.getLogger(ImageUploads.class);
  static final long FIRST_BACKOFF_MS = 250;
  static final long MAX_BACKOFF_MS = 5_000;

  /** A request's images: spooled (the batch may go on), then stored (the result may be reported). */
  public record Upload(Future<Void> spooled, Future<List<StoredImage>> stored) {}

  private record Spooled(StoredImage image, Path file) {}

  private final Vertx vertx;
  private final String workerId;
  private final ImageStore store;
  private final WorkerExecutor io;
  private final Path spool;
  private final long maxSpoolBytes;
  private final long giveUpMs;
  private final Runnable roomFreed;
  private final AtomicLong spooledBytes = new AtomicLong();
  private final Timer uploadTime;
  private final Counter retries;
  private final Counter givenUp;
  private volatile boolean closed;

  /**
   * @param spool a folder of this worker's own; what is in it at start belongs to attempts that ended
   *     with an earlier run of the worker, and is deleted
   * @param roomFreed called (on the event loop) when a request's images leave the spool
   */
  public ImageUploads(Vertx vertx, String region, String workerId, ImageStore store, WorkerExecutor io, Path spool,
      long maxSpoolBytes, long giveUpMs, MeterRegistry meters, Runnable roomFreed) {
    this.vertx = vertx;
    this.workerId = workerId;
    this.store = store;
    this.io = io;
    this.spool = spool;
    this.maxSpoolBytes = maxSpoolBytes;
    this.giveUpMs = giveUpMs;
    this.roomFreed = roomFreed;
    this.uploadTime = Timer.builder("genmesh.worker.upload.time").description("one image into the object store, retries included")
        .tags("region", region, "worker", workerId).register(meters);
    this.retries = Counter.builder("genmesh.worker.upload.retries").tags("region", region, "worker", workerId).register(meters);
    this.givenUp = Counter.builder("genmesh.worker.upload.given_up").tags("region", region, "worker", workerId).register(meters);
    Gauge.builder("genmesh.worker.spool.bytes", spooledBytes, AtomicLong::get).tags("region", region, "worker", workerId)
        .register(meters);
  }

  /** Empties the spool of what an earlier run left (its attempts are over: the region re-queued them). */
  public Future<Void> start() {
    return io.executeBlocking(() -> {
      if (Files.isDirectory(spool)) {
        try (var paths = Files.walk(spool)) {
          for (Path path : paths.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(spool)).toList()) {
            Files.deleteIfExists(path);
          }
        }
      }
      Files.createDirectories(spool);
      return null;
    }, false);
  }

  /** False while the spool holds more than its limit: claim nothing until uploads catch up. */
  public boolean hasRoom() {
    return spooledBytes.get() < maxSpoolBytes;
  }

  public long spooledBytes() {
    return spooledBytes.get();
  }

  /** Takes the PNGs of one attempt; see {@link Upload}. */
  public Upload upload(RequestRun run, List<byte[]> pngs) {
    Future<List<Spooled>> spooled = io.executeBlocking(() -> write(run, pngs), false)
        .onSuccess(files -> files.forEach(f -> spooledBytes.addAndGet(f.image().size())));
    Future<List<StoredImage>> stored = spooled.compose(files -> {
      List<Future<StoredImage>> puts = new ArrayList<>();
      long started = System.nanoTime();
      for (Spooled file : files) {
        puts.add(putWithRetries(run, file, started, 0).onSuccess(v ->
            uploadTime.record(System.nanoTime() - started, TimeUnit.NANOSECONDS)));
      }
      return Future.all(puts).map(all -> files.stream().map(Spooled::image).toList())
          .onComplete(done -> release(files));
    });
    return new Upload(spooled.mapEmpty(), stored);
  }

  /** Deletes the objects of an attempt the region did not take (stale): nobody will ever publish them. */
  public void discard(List<StoredImage> images) {
    store.delete(images.stream().map(StoredImage::key).toList()).onFailure(err ->
        LOG.debug("worker {}: objects of a stale attempt not deleted (the region's sweeper will): {}", workerId,
            err.toString()));
  }

  /** Stops retrying (the worker stops); what is not stored yet fails. */
  public void close() {
    closed = true;
  }

  private List<Spooled> write(RequestRun run, List<byte[]> pngs) throws IOException {
    int attempt = run.assignment().attempt();
    Path dir = Files.createDirectories(spool.resolve(run.id()).resolve(Integer.toString(attempt)));
    List<Spooled> out = new ArrayList<>(pngs.size());
    for (int i = 0; i < pngs.size(); i++) {
      byte[] png = pngs.get(i);
      Path file = dir.resolve(i + ".png");
      Files.write(file, png);
      out.add(new Spooled(new StoredImage(ImageKeys.of(run.id(), attempt, i), png.length, Sha256.of(png)), file));
    }
    return out;
  }

  private Future<StoredImage> putWithRetries(RequestRun run, Spooled file, long startedNanos, int tries) {
    return io.executeBlocking(() -> Buffer.buffer(Files.readAllBytes(file.file())), false)
        .compose(bytes -> store.put(file.image().key(), bytes, ImageStores.PNG, ImageStores.IMMUTABLE))
        .map(file.image())
        .recover(err -> {
          long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
          if (closed) {
            return Future.failedFuture("the worker stops");
          }
          if (run.isCancelled() && !run.isDrained()) {
            return Future.failedFuture("cancelled while its images were uploading");
          }
          if (elapsedMs >= giveUpMs) {
            givenUp.increment();
            return Future.failedFuture(new IllegalStateException("images not stored within " + giveUpMs + " ms ("
                + (tries + 1) + " tries): " + err.getMessage(), err));
          }
          long backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS << Math.min(tries, 10));
          long delay = backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1);
          retries.increment();
          if (tries == 0 || tries % 10 == 9) {
            LOG.warn("[{}] worker {}: upload of {} failed ({}), retrying in {} ms", run.id(), workerId,
                file.image().key(), err.toString(), delay);
          }
          return vertx.timer(delay).compose(t -> putWithRetries(run, file, startedNanos, tries + 1));
        });
  }

  private void release(List<Spooled> files) {
    io.executeBlocking(() -> {
      for (Spooled file : files) {
        Files.deleteIfExists(file.file());
      }
      Path attemptDir = files.isEmpty() ? null : files.get(0).file().getParent();
      if (attemptDir != null) {
        deleteIfEmpty(attemptDir);
        deleteIfEmpty(attemptDir.getParent());
      }
      return null;
    }, false).onComplete(ar -> {
      files.forEach(f -> spooledBytes.addAndGet(-f.image().size()));
      if (ar.failed()) {
        LOG.warn("worker {}: spool files not deleted: {}", workerId, ar.cause().toString());
      }
      roomFreed.run();
    });
  }

  private static void deleteIfEmpty(Path dir) {
    try {
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // not empty (another attempt of the request spools there): fine
    }
  }
}
