package dev.genmesh.bench.queue;

import dev.genmesh.config.ImagesConfig;
import dev.genmesh.images.ImageKeys;
import dev.genmesh.images.ImageStore;
import dev.genmesh.images.ImageStores;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.StoredImage;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.protocol.WorkerMessages.Claim;
import dev.genmesh.protocol.WorkerMessages.Result;
import dev.genmesh.registry.Sha256;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * W inference workers without inference: each claims over the event bus the way
 * InferenceVerticle's WorkLoop does (on start; a claim may wait in the region for work, {@code
 * wait_ms}, and is acknowledged when the region asks; empty after waiting, it claims again at once;
 * and, for a region that does not hold claims, on every {@code workAvailable} publish while idle
 * and on a poll timer) and hands in one 512×512 PNG as soon as it gets an assignment, then claims
 * again. The uploads run in the {@link Uploader}'s JVM when there is one (the S3 client, its CPU and
 * its JIT compilation outside the node's JVM, as a real worker's are in its own process; this JVM
 * sends it the key over loopback HTTP from the load generator's Vert.x instance), else on the load
 * generator's own Vert.x instance ({@code uploads}), so that their threads' CPU (request signing,
 * which hashes the PNG, and the S3 client's I/O threads) is told apart from the region node's.
 */
final class VirtualWorkers extends VerticleBase {
  /**
   * The worker pool the virtual workers run on, one thread of their own (see {@link #deploymentOptions}):
   * no region-node code runs there, so its CPU is told apart from the node's.
   */
  static final String POOL = "bench-virtual-workers";
  private static final DeliveryOptions TIMEOUT = new DeliveryOptions().setSendTimeout(30_000);

  final AtomicLong claims = new AtomicLong();
  final AtomicLong noWork = new AtomicLong();
  final AtomicLong results = new AtomicLong();
  /** Results the region answered other than {@code completed} (e.g. {@code safety_pending}: the check did not answer). */
  final AtomicLong notCompleted = new AtomicLong();
  final AtomicLong errors = new AtomicLong();

  private final String region;
  private final int count;
  private final long pollMs;
  /** As WorkLoop: half the window in which the region must answer (RegionContact: max(3 polls, 5 s)). */
  private final long waitMs;
  /** The PNG every result carries, and its SHA-256 (a real worker hashes each image once, in its own process). */
  private final Buffer png = Buffer.buffer(BenchSpec.png());
  private final String sha256 = Sha256.of(BenchSpec.png());
  private final ImagesConfig.Bucket bucket;
  private final Context uploads;
  private ImageStore store;
  /** The Uploader's port, or 0: upload from this JVM. */
  private final int uploaderPort;
  private HttpClient uploader;
  private final Consumer<String> completedPrompt;
  private final List<Worker> workers = new ArrayList<>();
  private MessageConsumer<String> wakeUps;
  private long pollTimer;

  /** @param completedPrompt told the prompt of each request whose result the region acknowledged */
  VirtualWorkers(String region, int count, long pollMs, ImagesConfig.Bucket bucket, Context uploads, int uploaderPort,
      Consumer<String> completedPrompt) {
    this.region = region;
    this.uploaderPort = uploaderPort;
    this.bucket = bucket;
    this.uploads = uploads;
    this.count = count;
    this.pollMs = pollMs;
    this.waitMs = Math.max(3 * pollMs, 5000) / 2;
    this.completedPrompt = completedPrompt;
  }

  /**
   * Deploy with these: the workers' own thread, not one of the node's event loops. A message they
   * send is copied on the receiver's thread (the node's, as a real worker's message is decoded on
   * the node's), their replies on theirs.
   */
  static DeploymentOptions deploymentOptions() {
    return new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER).setWorkerPoolName(POOL).setWorkerPoolSize(1);
  }

  @Override
  public Future<?> start() {
    if (uploaderPort > 0) {
      uploader = uploads.owner().createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1")
          .setDefaultPort(uploaderPort).setKeepAlive(true), new io.vertx.core.http.PoolOptions().setHttp1MaxSize(count));
    } else {
      store = ImageStores.s3(uploads.owner(), bucket);
    }
    for (int i = 0; i < count; i++) {
      workers.add(new Worker("bench-worker-" + i));
    }
    wakeUps = vertx.eventBus().consumer(Addresses.workAvailable(region), message -> workers.forEach(Worker::wake));
    pollTimer = vertx.setPeriodic(pollMs, id -> workers.forEach(Worker::wake));
    return wakeUps.completion().onSuccess(v -> workers.forEach(Worker::wake));
  }

  @Override
  public Future<?> stop() {
    workers.forEach(worker -> worker.stopped = true);
    vertx.cancelTimer(pollTimer);
    return wakeUps.unregister().eventually(() -> store != null ? store.close() : uploader.close());
  }

  /** Puts the PNG from the uploads context; completes back on the caller's context. */
  private Future<Void> upload(String key) {
    Context here = vertx.getOrCreateContext();
    Promise<Void> done = Promise.promise();
    uploads.runOnContext(v -> put(key)
        .onComplete(ar -> here.runOnContext(w -> {
          if (ar.succeeded()) {
            done.complete();
          } else {
            done.fail(ar.cause());
          }
        })));
    return done.future();
  }

  private Future<Void> put(String key) {
    if (uploader == null) {
      return store.put(key, png, ImageStores.PNG, ImageStores.IMMUTABLE).mapEmpty();
    }
    RequestOptions put = new RequestOptions().setMethod(HttpMethod.POST)
        .setURI("/put?key=" + java.net.URLEncoder.encode(key, java.nio.charset.StandardCharsets.UTF_8));
    return uploader.request(put).compose(request -> request.send()).compose(response -> response.statusCode() == 204
        ? Future.succeededFuture() : Future.failedFuture("uploader answered " + response.statusCode()));
  }

  private final class Worker {
    private final String id;
    /** The first claim does not wait (as WorkLoop: not before the region answered once); later ones do. */
    private final JsonObject firstClaim;
    private final JsonObject claim;
    private boolean answered;
    private boolean busy;
    private boolean stopped;

    Worker(String id) {
      this.id = id;
      this.firstClaim = new Claim(id, "cpu", 8192, List.of(BenchSpec.MODEL)).toJson();
      this.claim = new Claim(id, "cpu", 8192, List.of(BenchSpec.MODEL), null, waitMs).toJson();
    }

    void wake() {
      if (!busy && !stopped) {
        busy = true;
        claim();
      }
    }

    private void claim() {
      if (stopped) {
        busy = false;
        return;
      }
      claims.incrementAndGet();
      long asked = System.nanoTime();
      boolean waits = answered;
      vertx.eventBus().<JsonObject>request(Addresses.claim(region), waits ? claim : firstClaim, TIMEOUT).onComplete(reply -> {
        if (reply.succeeded()) {
          answered = true;
          if (reply.result().replyAddress() != null) {
            reply.result().reply(new JsonObject().put("worker_id", id)); // the claim waited: acknowledge
          }
          handIn(Assignment.fromJson(reply.result().body()));
        } else if (reply.cause() instanceof ReplyException re && re.failureCode() == BusFailure.NO_WORK) {
          answered = true;
          noWork.incrementAndGet();
          if (waits && System.nanoTime() - asked >= waitMs * 500_000L) {
            claim(); // empty after waiting in the region: wait again
          } else {
            busy = false;
          }
        } else {
          errors.incrementAndGet();
          System.err.println("claim by " + id + " failed: " + reply.cause());
          vertx.setTimer(10, t -> claim());
        }
      });
    }

    /**
     * Uploads the PNG under the attempt's key, as a worker does (the client's CPU counts in this JVM
     * here, in a worker's own process in production), then hands the key in.
     */
    private void handIn(Assignment assignment) {
      String key = ImageKeys.of(assignment.requestId(), assignment.attempt(), 0);
      JsonObject result = new Result(assignment.requestId(), assignment.attempt(), id,
          List.of(new StoredImage(key, png.length(), sha256)), 1.0).toJson();
      upload(key).compose(v -> vertx.eventBus().<JsonObject>request(Addresses.result(region), result, TIMEOUT)).onComplete(reply -> {
        if (reply.succeeded()) {
          results.incrementAndGet();
          if (!"completed".equals(reply.result().body().getString("status"))) {
            notCompleted.incrementAndGet(); // the round goes on: the region holds it and checks it again later
          }
          completedPrompt.accept(assignment.spec().prompt());
        } else {
          errors.incrementAndGet();
          System.err.println("result of " + assignment.requestId() + " failed: " + reply.cause());
        }
        claim();
      });
    }
  }
}
