package dev.genmesh.inference.impl;

import dev.genmesh.config.WorkerConfig;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.FailureType;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.WorkerMessages;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's cycle once it is ready: claim a request for a warm model, gather compatible ones
 * into one TensorFlow batch, run it ({@link BatchExecution}), claim again. It keeps every request
 * the worker holds (running, waiting for the next batch, handing in) and the busy time the
 * heartbeat reports as utilisation. Event loop only, except the read-only accessors the probes use.
 */
public final class WorkLoop {
  private static final Logger LOG = LoggerFactory.getLogger(WorkLoop.class);
  private static final long BUS_TIMEOUT_MS = 10_000;

  /** What the loop asks of the worker around it. */
  public interface ClaimGate {
    /** Ready, live and neither stopping nor draining: may claim. */
    boolean mayClaim();

    /** Told to drain: leaves once idle instead of claiming. */
    boolean draining();

    /** Leaves if it drains and holds nothing. */
    void leaveIfDrained();

    void heartbeat();
  }

  private final Vertx vertx;
  private final String region;
  private final String workerId;
  private final WorkerConfig config;
  private final ModelSet models;
  private final Admission admission;
  private final RegionContact contact;
  private final RegionReports reports;
  private final BatchExecution batches;
  private final WorkerExecutor tf;
  /** Where a claimed request's control image (base64, up to MBs) is decoded: not the event loop, not behind TensorFlow. */
  private final WorkerExecutor decoding;
  private final StepWatchdog watchdog;
  private final Counter failures;
  private final ClaimGate worker;
  /**
   * How long an ordinary claim may wait in the region for work (a long poll): half the window in
   * which the region must answer for the worker to count as in contact.
   */
  private final long claimWaitMs;
  /** The last claim waited in the region and came back empty: claim again at once. */
  private boolean claimWaited;

  /** Every request this worker holds (running, waiting for its turn, handing in). */
  private final Map<String, RequestRun> held = new LinkedHashMap<>();
  /** Claimed while gathering a batch but not compatible with it: runs next. */
  private final Deque<RequestRun> pending = new ArrayDeque<>();
  private volatile List<RequestRun> running = List.of();
  private volatile boolean working;
  private long runningEstimateMb;
  private boolean busy;
  private long busySinceNanos;
  private long busyNanosInWindow;
  private long windowStartNanos = System.nanoTime();

  public WorkLoop(Vertx vertx, String region, String workerId, WorkerConfig config, ModelSet models, Admission admission,
      RegionContact contact, RegionReports reports, BatchExecution batches, WorkerExecutor tf, WorkerExecutor decoding,
      StepWatchdog watchdog, Counter failures, ClaimGate worker) {
    this.vertx = vertx;
    this.region = region;
    this.workerId = workerId;
    this.config = config;
    this.models = models;
    this.admission = admission;
    this.contact = contact;
    this.reports = reports;
    this.batches = batches;
    this.tf = tf;
    this.decoding = decoding;
    this.watchdog = watchdog;
    this.failures = failures;
    this.worker = worker;
    this.claimWaitMs = contact.windowMs() / 2;
  }

  /**
   * Starts claiming: now, and again as soon as a claim that waited in the region comes back empty;
   * a region that does not hold claims is asked on its "work available" signal and every
   * {@code claim_poll_ms}.
   */
  public void listen() {
    var bus = vertx.eventBus();
    bus.<String>consumer(Addresses.workAvailable(region), message -> claim());
    bus.<JsonObject>consumer(Addresses.cancel(region), this::onCancel);
    vertx.setPeriodic(config.claimPollMs(), id -> claim());
    claim();
  }

  private void onCancel(Message<JsonObject> message) {
    RequestRun run = held.get(message.body().getString("request_id"));
    if (run == null) {
      return;
    }
    run.traced(() -> LOG.info("[{}] cancel received by worker {}: stopping at the next step", run.id(), workerId));
    run.cancel();
    if (pending.remove(run)) {
      held.remove(run.id());
      reports.failure(run, FailureType.CANCELLED, "cancelled before it started");
    }
  }

  /** Asks the region for work if idle, gathers what can share its batch, and runs it. */
  public void claim() {
    if (worker.draining()) {
      worker.leaveIfDrained();
      return;
    }
    if (busy || !worker.mayClaim()) {
      return;
    }
    busy = true;
    if (!pending.isEmpty()) {
      begin(pending.poll());
      return;
    }
    askForWork(null).compose(this::hold).onComplete(claimed -> {
      if (claimed.failed() || claimed.result() == null) {
        busy = false;
        if (claimWaited) {
          claimWaited = false;
          claim();
        }
        return;
      }
      begin(claimed.result());
    });
  }

  /**
   * Holds a claimed request (null: none), its input decoded: a control image on {@link #decoding}
   * (or by admission, on the event loop, if that pool closed as the worker stops). A cancel that
   * comes meanwhile stops it at its first step, as one that comes while its batch gathers.
   */
  private Future<RequestRun> hold(WorkerMessages.Assignment assignment) {
    if (assignment == null) {
      return Future.succeededFuture(null);
    }
    RequestRun run = new RequestRun(assignment);
    held.put(run.id(), run);
    if (!run.spec().hasControlImage()) {
      return Future.succeededFuture(run);
    }
    return decoding.executeBlocking(() -> {
      run.decodeInput();
      return run;
    }, false).recover(e -> Future.succeededFuture(run));
  }

  private void begin(RequestRun first) {
    String model = first.spec().model();
    if (models.get(model) == null && models.failures().get(model) != null) {
      loadThenBegin(first, model);
      return;
    }
    Admission.Refusal refusal = admission.refusal(first);
    if (refusal != null) {
      LOG.warn("[{}] refused by worker {} without running ({}): {}", first.id(), workerId, refusal.failureType(),
          refusal.reason());
      refuse(first, refusal.failureType(), refusal.reason());
      return;
    }
    gather(new ArrayList<>(List.of(first))).onComplete(batch -> run(batch.result()));
  }

  /**
   * A request for a model that failed to load: one more attempt (pull again, verify, load, warm up)
   * when its backoff has passed, then the request runs; otherwise, or if it fails again, the
   * request fails as {@code model_load_failed} and the region retries it on another worker.
   */
  private void loadThenBegin(RequestRun first, String model) {
    ModelLoadFailures.Failure last = models.failures().get(model);
    if (!models.failures().mayTry(model)) {
      loadFailed(first, model + " did not load on worker " + workerId + " (" + last.reason() + "); next attempt not before "
          + last.nextAttempt());
      return;
    }
    LOG.info("[{}] worker {} tries to load {} again (attempt {})", first.id(), workerId, model, last.attempts() + 1);
    working = true;
    tf.executeBlocking(() -> {
      models.retry(model, workerId);
      return null;
    }, false).onComplete(done -> {
      working = false;
      if (done.succeeded()) {
        worker.heartbeat();
        begin(first);
      } else {
        loadFailed(first, model + " did not load on worker " + workerId + ": " + done.cause().getMessage());
      }
    });
  }

  private void loadFailed(RequestRun run, String reason) {
    run.traced(() -> LOG.warn("[{}] refused by worker {} ({}): {}", run.id(), workerId, FailureType.MODEL_LOAD_FAILED, reason));
    refuse(run, FailureType.MODEL_LOAD_FAILED, reason);
  }

  private void refuse(RequestRun run, String failureType, String reason) {
    failures.increment();
    held.remove(run.id());
    reports.failure(run, failureType, reason);
    busy = false;
    claim();
  }

  /**
   * Claims more requests that can share the first one's TensorFlow batch, while there is room
   * under the batch limit and the memory budget. The claim carries a {@code batch_with} hint; a
   * region that ignores it may answer with anything, and a request that does not fit waits for
   * the next batch instead.
   */
  private Future<List<RequestRun>> gather(List<RequestRun> batch) {
    GenerationSpec first = batch.get(0).spec();
    int room = admission.capacity(first) - batch.stream().mapToInt(r -> r.spec().batchSize()).sum();
    if (room < 1 || !worker.mayClaim()) {
      return Future.succeededFuture(batch);
    }
    var hint = WorkerMessages.BatchHint.of(first, room);
    return askForWork(hint).compose(this::hold).compose(run -> {
      if (run == null) {
        return Future.succeededFuture(batch);
      }
      if (hint.matches(run.spec()) && admission.refusal(run) == null) {
        batch.add(run);
        return gather(batch);
      }
      pending.add(run);
      return Future.succeededFuture(batch);
    }, e -> Future.succeededFuture(batch));
  }

  /**
   * The region's next request (null when it has none), or only one that can join a batch. An
   * ordinary claim, once the region has answered one, may wait in the region until work arrives
   * ({@code wait_ms}); the region then asks for an acknowledgement, which tells it the worker is
   * still there to run it.
   */
  private Future<WorkerMessages.Assignment> askForWork(WorkerMessages.BatchHint batchWith) {
    // Not before the region first answered: until then the worker is not ready (its queue check).
    long waitMs = batchWith == null && contact.sinceLastAnswerMs() >= 0 ? claimWaitMs : 0;
    var claim = new WorkerMessages.Claim(workerId, config.gpuClass(), freeVramMb(), models.claimable(), batchWith, waitMs);
    long askedNanos = System.nanoTime();
    return vertx.eventBus().<JsonObject>request(Addresses.claim(region), claim.toJson(),
            new DeliveryOptions().setSendTimeout(BUS_TIMEOUT_MS + waitMs))
        .map(reply -> {
          contact.answered();
          if (reply.replyAddress() != null) {
            reply.reply(new JsonObject().put("worker_id", workerId));
          }
          return WorkerMessages.Assignment.fromJson(reply.body());
        })
        .recover(e -> {
          if (e instanceof ReplyException re && re.failureCode() == BusFailure.NO_WORK) {
            contact.answered();
            // Empty after waiting (not at once, as a region that does not hold claims answers): ask again now.
            claimWaited = waitMs > 0 && System.nanoTime() - askedNanos >= waitMs * 500_000L;
          } else {
            LOG.debug("worker {} claim failed: {}", workerId, e.toString());
          }
          return Future.succeededFuture(null);
        });
  }

  private void run(List<RequestRun> batch) {
    running = List.copyOf(batch);
    working = true;
    watchdog.batchStarted();
    busySinceNanos = System.nanoTime();
    GenerationSpec spec = batch.get(0).spec();
    int images = batch.stream().mapToInt(r -> r.spec().batchSize()).sum();
    runningEstimateMb = models.estimateMb(spec.model(), spec.width(), spec.height(), images);
    batch.forEach(r -> r.traced(() -> LOG.info("[{}] worker {} runs attempt {} ({} steps, {}x{}, batch of {} request(s),"
        + " {} image(s))", r.id(), workerId, r.assignment().attempt(), spec.steps(), spec.width(), spec.height(), batch.size(),
        images)));
    batches.run(batch, images).onComplete(v -> {
      // Those handing in stay held (their leases renewed) until released.
      batch.stream().filter(r -> !r.isHandingIn()).forEach(r -> held.remove(r.id()));
      busyNanosInWindow += System.nanoTime() - Math.max(busySinceNanos, windowStartNanos);
      running = List.of();
      working = false;
      watchdog.batchEnded();
      runningEstimateMb = 0;
      busy = false;
      claim();
    });
  }

  /** A request handed in or given up (from {@link BatchExecution}). */
  public void release(String requestId) {
    held.remove(requestId);
    if (worker.draining()) {
      worker.leaveIfDrained();
    }
  }

  /**
   * Drain deadline: hands back the held requests not started, and stops at their next step those
   * that would run longer than {@code finishWithinMs}, as {@code drained}.
   *
   * @return how many it lets finish
   */
  public int drainHeld(double finishWithinMs) {
    for (RequestRun run : List.copyOf(pending)) {
      pending.remove(run);
      held.remove(run.id());
      reports.failure(run, FailureType.DRAINED, "worker drained before it started");
    }
    int finishing = 0;
    for (RequestRun run : held.values()) {
      if (run.remainingMs() <= finishWithinMs) {
        finishing++;
      } else {
        run.drain();
      }
    }
    return finishing;
  }

  /** Stopping: every held request stops at its next step (the region re-queues it when its lease lapses). */
  public void cancelAll() {
    held.values().forEach(RequestRun::cancel);
  }

  /** Holds, runs and waits for nothing. */
  public boolean idle() {
    return !busy && held.isEmpty() && pending.isEmpty();
  }

  public Set<String> heldIds() {
    return new LinkedHashSet<>(held.keySet());
  }

  /** A TensorFlow batch or a model load runs (for the probes). */
  public boolean working() {
    return working;
  }

  /** The id of the first request of the batch running now, or null. */
  public String currentRequest() {
    List<RequestRun> now = running;
    return now.isEmpty() ? null : now.get(0).id();
  }

  /** The share of the time since the last call that a batch ran (the heartbeat's utilisation); starts a new window. */
  public double takeUtilisation() {
    long now = System.nanoTime();
    long busyNanos = busyNanosInWindow + (running.isEmpty() ? 0 : now - Math.max(busySinceNanos, windowStartNanos));
    double utilisation = Math.min(1.0, busyNanos / (double) Math.max(1, now - windowStartNanos));
    busyNanosInWindow = 0;
    windowStartNanos = now;
    return utilisation;
  }

  /**
   * The memory budget less the loaded models' declared base memory and the estimate of the batch
   * it runs, all from the manifests (on CPU the budget is what the worker allows itself). Not
   * the JVM heap: it wanders with garbage collection, and the region compares this figure
   * between claims (an OOM retry needs a worker with more).
   */
  public long freeVramMb() {
    return Math.max(0, config.vramMb() - models.baseMb() - runningEstimateMb);
  }
}
