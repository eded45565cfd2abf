package dev.genmesh.inference;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.images.ImageKeys;
import dev.genmesh.images.ImageStore;
import dev.genmesh.images.ImageStores;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.StoredImage;
import dev.genmesh.registry.Sha256;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.WorkerMessages;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * The region's side of the worker event-bus contract, played by a test: it hands out queued
 * assignments on claim (honouring {@code batch_with} like the region should), and records what
 * workers report. With {@link #holdClaims}, a claim that may wait and finds nothing is held until
 * work is queued, then answered with a request for an acknowledgement, as a region node does.
 */
final class RegionDouble {
  static final String REGION = "us-west";

  /** An assignment and which claims may take it (e.g. only a worker with more free memory). */
  record Queued(WorkerMessages.Assignment assignment, Predicate<WorkerMessages.Claim> who) {}

  final Queue<Queued> work = new ConcurrentLinkedQueue<>();
  final List<WorkerMessages.Claim> claims = new CopyOnWriteArrayList<>();
  final List<WorkerMessages.Step> steps = new CopyOnWriteArrayList<>();
  final Map<String, WorkerMessages.Result> results = new ConcurrentHashMap<>();
  final Map<String, WorkerMessages.Failure> failures = new ConcurrentHashMap<>();
  final List<WorkerMessages.Heartbeat> heartbeats = new CopyOnWriteArrayList<>();
  /** Steps ({@code step <id> <n>}) and results ({@code result <id>}) in the order they arrived. */
  final List<String> timeline = new CopyOnWriteArrayList<>();
  volatile boolean honourBatchHints = true;
  /** While set, results are answered STALE_ATTEMPT (the request moved on) and kept in {@link #stale}. */
  volatile boolean staleResults;
  final Map<String, WorkerMessages.Result> stale = new ConcurrentHashMap<>();
  /** While set, claims are answered with a failure (the region's queue is down), not work or NO_WORK. */
  volatile boolean failClaims;
  /** While set, claims that may wait ({@code wait_ms}) and find nothing are held until work is queued. */
  volatile boolean holdClaims;
  /** Claims held now. */
  final Queue<Message<JsonObject>> held = new ConcurrentLinkedQueue<>();
  /** The worker's acknowledgement of each assignment a held claim got, by request id. */
  final Map<String, JsonObject> acks = new ConcurrentHashMap<>();
  /**
   * Called with every step after it is recorded. Steps are sent point to point, so a test must
   * not add a second consumer on the progress address: the two would share the steps.
   */
  volatile java.util.function.Consumer<WorkerMessages.Step> onStep = step -> {};

  /** The region's bucket in the test's object store; null: the double has none (no results expected). */
  private final ImageStore images;
  private final Map<String, String> imagesEnv;

  RegionDouble(Vertx vertx) {
    this(vertx, null);
  }

  /** With a fresh bucket of {@code stores}' object store, where the workers it serves upload their images. */
  RegionDouble(Vertx vertx, TestStores stores) {
    if (stores == null) {
      images = null;
      imagesEnv = Map.of();
    } else {
      imagesEnv = stores.imagesEnv(stores.createBucket());
      images = ImageStores.s3(vertx, ConfigLoader.load(null, imagesEnv).images().forRegion(REGION));
    }
    var bus = vertx.eventBus();
    bus.<JsonObject>consumer(Addresses.claim(REGION), message -> {
      WorkerMessages.Claim claim = WorkerMessages.Claim.fromJson(message.body());
      claims.add(claim);
      if (failClaims) {
        message.fail(500, "the queue is down");
        return;
      }
      WorkerMessages.Assignment next = take(claim);
      if (next == null && holdClaims && claim.waitMs() > 0 && claim.batchWith() == null) {
        held.add(message);
      } else if (next == null) {
        message.fail(BusFailure.NO_WORK, "no work");
      } else {
        message.reply(next.toJson());
      }
    });
    bus.<JsonObject>consumer(Addresses.progress(REGION), message -> {
      WorkerMessages.Step step = WorkerMessages.Step.fromJson(message.body());
      steps.add(step);
      timeline.add("step " + step.requestId() + " " + step.step());
      onStep.accept(step);
    });
    bus.<JsonObject>consumer(Addresses.result(REGION), message -> {
      WorkerMessages.Result result = WorkerMessages.Result.fromJson(message.body());
      if (staleResults) {
        stale.put(result.requestId(), result);
        message.fail(BusFailure.STALE_ATTEMPT, "attempt " + result.attempt() + " is not current");
        return;
      }
      results.put(result.requestId(), result);
      timeline.add("result " + result.requestId());
      message.reply(new JsonObject().put("status", "completed"));
    });
    bus.<JsonObject>consumer(Addresses.failure(REGION), message -> {
      WorkerMessages.Failure failure = WorkerMessages.Failure.fromJson(message.body());
      failures.put(failure.requestId(), failure);
      message.reply(new JsonObject().put("status", "queued"));
    });
    bus.<JsonObject>consumer(Addresses.heartbeat(REGION),
        message -> heartbeats.add(WorkerMessages.Heartbeat.fromJson(message.body())));
  }

  /** The environment that points a worker's config at this region's bucket. */
  Map<String, String> imagesEnv() {
    return imagesEnv;
  }

  /**
   * The PNGs of a reported result, read from the object store; each checked against the size and
   * SHA-256 the worker reported, and against the attempt-scoped key it must have.
   */
  List<byte[]> pngs(String requestId) {
    WorkerMessages.Result result = results.get(requestId);
    List<byte[]> pngs = new java.util.ArrayList<>();
    for (int i = 0; i < result.images().size(); i++) {
      StoredImage image = result.images().get(i);
      if (!image.key().equals(ImageKeys.of(requestId, result.attempt(), i))) {
        throw new AssertionError("image " + i + " of " + requestId + " is not under its attempt's key: " + image.key());
      }
      byte[] png = Waits.await(images.get(image.key())).getBytes();
      if (png.length != image.size() || !Sha256.of(png).equals(image.sha256())) {
        throw new AssertionError("stored " + image.key() + " does not match its reported size and SHA-256");
      }
      pngs.add(png);
    }
    return pngs;
  }

  /** Every object in the region's bucket under {@code prefix}. */
  List<String> storedKeys(String prefix) {
    return Waits.await(images.list(prefix)).stream().map(dev.genmesh.images.ObjectInfo::key).toList();
  }

  void queue(WorkerMessages.Assignment assignment) {
    work.add(new Queued(assignment, claim -> true));
    answerHeld();
  }

  /** A held claim gets the work that came, and must acknowledge it. */
  private void answerHeld() {
    Message<JsonObject> waiting = held.poll();
    if (waiting == null) {
      return;
    }
    WorkerMessages.Assignment next = take(WorkerMessages.Claim.fromJson(waiting.body()));
    if (next == null) {
      held.add(waiting);
      return;
    }
    waiting.<JsonObject>replyAndRequest(next.toJson(), new DeliveryOptions().setSendTimeout(5000))
        .onSuccess(ack -> acks.put(next.requestId(), ack.body()));
  }

  void queue(WorkerMessages.Assignment assignment, Predicate<WorkerMessages.Claim> who) {
    work.add(new Queued(assignment, who));
  }

  private synchronized WorkerMessages.Assignment take(WorkerMessages.Claim claim) {
    for (Iterator<Queued> it = work.iterator(); it.hasNext(); ) {
      Queued q = it.next();
      boolean fitsHint = !honourBatchHints || claim.batchWith() == null
          || claim.batchWith().matches(q.assignment().spec());
      if (q.who().test(claim) && fitsHint) {
        it.remove();
        return q.assignment();
      }
    }
    return null;
  }

  List<WorkerMessages.Step> stepsOf(String id) {
    return steps.stream().filter(s -> s.requestId().equals(id)).toList();
  }

  List<WorkerMessages.Heartbeat> heartbeatsOf(String workerId) {
    return heartbeats.stream().filter(h -> h.workerId().equals(workerId)).toList();
  }

  WorkerMessages.Heartbeat lastHeartbeat(String workerId) {
    List<WorkerMessages.Heartbeat> mine = heartbeatsOf(workerId);
    return mine.isEmpty() ? null : mine.get(mine.size() - 1);
  }

  /** Polls until {@code condition} holds; fails the test after {@code timeout} (a deadlock guard, not a speed check). */
  static void await(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what);
      }
    }
  }
}
