package dev.genmesh.region.scheduler.impl;

import dev.genmesh.breakers.Breakers;
import dev.genmesh.breakers.ClaimAdmission;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.protocol.WorkerMessages.Claim;
import dev.genmesh.region.node.BusBodies;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.queue.impl.WorkerHandBack;
import dev.genmesh.region.requests.ProgressHub;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.region.scheduler.AssignedRows;
import dev.genmesh.region.scheduler.EtaEstimator;
import dev.genmesh.region.scheduler.Routing;
import dev.genmesh.region.workers.KnownWorker;
import dev.genmesh.region.workers.impl.WorkerRegistry;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers a worker's claim: the claim script picks and leases the next request that fits the
 * worker (tier order with the relax share, fair order inside a tier, GPU class, memory, hints,
 * models; see {@code lua/claim.lua}), then the row moves QUEUED → ASSIGNED. An id whose row is no
 * longer QUEUED (cancelled, already running) is dropped. A claim that finds nothing and may wait
 * ({@code wait_ms}) waits in {@link ParkedClaims} until work arrives; its worker must then
 * acknowledge the assignment, or the request goes back to the queue (region-node/API.md, "Claims
 * that wait").
 */
public final class ClaimHandler {
  private static final Logger LOG = LoggerFactory.getLogger(ClaimHandler.class);
  /** Bounds one claim's work when the queue heads hold ids that are no longer waiting. */
  static final int MAX_ROUNDS = 32;
  /** How long the worker of a claim that waited has to acknowledge its assignment. */
  static final long ACK_TIMEOUT_MS = 3000;

  /** An assignment with the row it came from. */
  private record Given(Assignment assignment, RequestRow row) {}

  /** A worker's claim script view, encoded, with what it was made of (a worker claims with the same view again and again). */
  private record EncodedView(String gpuClass, long vram, List<String> models, List<String> held, String json) {}

  /** Bounds {@link #views}: more workers than this in one region are not expected; past it the cache starts over. */
  static final int MAX_VIEWS = 4096;

  private final RequestLog log;
  private final TierQueue queue;
  private final ProgressHub hub;
  private final RegionMetrics metrics;
  private final Routing routing;
  private final WorkerRegistry workers;
  private final EtaEstimator eta;
  private final Runnable keysLost;
  private final Clock clock;
  private final long leaseMs;
  private final Breakers breakers;
  private final ParkedClaims parked;
  private final WorkerHandBack handBacks;
  private final BooleanSupplier fenced;
  private AssignedRows assignedRows = new AssignedRows();
  private final Map<String, EncodedView> views = new ConcurrentHashMap<>();

  /**
   * @param keysLost asks for a rebuild (a claim found delayed retries without their data)
   * @param breakers the circuit breakers, which narrow or refuse claims (region-node/API.md, "Circuit breakers")
   * @param parked where claims that may wait wait for work
   * @param handBacks puts back an assignment its worker did not acknowledge
   * @param fenced true while the region may not dispatch (it lost its failover quorum: docs/architecture.md,
   *     "Self-fencing"); asked before every claim script run
   */
  public ClaimHandler(RegionContext ctx, Routing routing, WorkerRegistry workers, EtaEstimator eta, Runnable keysLost,
      Breakers breakers, ParkedClaims parked, WorkerHandBack handBacks, BooleanSupplier fenced) {
    this.fenced = fenced;
    this.breakers = breakers;
    this.parked = parked;
    this.handBacks = handBacks;
    this.log = ctx.log();
    this.queue = ctx.queue();
    this.hub = ctx.hub();
    this.metrics = ctx.metrics();
    this.routing = routing;
    this.workers = workers;
    this.eta = eta;
    this.keysLost = keysLost;
    this.clock = ctx.clock();
    this.leaseMs = ctx.config().queue().leaseMs();
  }

  /** Remembers each row this node assigns in {@code rows} (for its result's check: {@link AssignedRows}); this. */
  public ClaimHandler remembering(AssignedRows rows) {
    this.assignedRows = rows;
    return this;
  }

  public void handle(Message<Object> message) {
    Claim claim = BusBodies.parse(message, Claim::fromJson);
    if (claim == null || claim.workerId() == null || claim.workerId().isBlank()) {
      message.fail(BusFailure.BAD_MESSAGE, "claim needs a JSON body with worker_id");
      return;
    }
    // A claim for a batch the worker gathers never waits: the batch must not.
    long waitMs = claim.batchWith() == null ? Math.min(claim.waitMs(), ParkedClaims.MAX_WAIT_MS) : 0;
    serve(claim, message, System.nanoTime() + waitMs * 1_000_000, false);
  }

  /**
   * Runs a claim. With nothing to give, a claim that may still wait is parked until work arrives
   * or {@code deadlineNanos} (real time, as the worker's own send timeout: not the policy clock).
   * Answers false when it answered NO_WORK at once, without looking.
   *
   * @param woken the claim waited: the worker must acknowledge what it gets
   */
  private boolean serve(Claim claim, Message<Object> message, long deadlineNanos, boolean woken) {
    if (!workers.mayClaim(claim.workerId())) {
      // Not ready, draining, not live, or judged lost: no new work until its heartbeat says otherwise.
      metrics.claim("refused");
      message.fail(BusFailure.NO_WORK, "worker " + claim.workerId() + " takes no new work now");
      return false;
    }
    if (fenced.getAsBoolean()) {
      // Fenced: a peer may adopt this region's work soon; nothing new starts here (running attempts finish).
      metrics.claim("fenced");
      message.fail(BusFailure.NO_WORK, "no work (region fenced: it lost its failover quorum)");
      return false;
    }
    // Circuit breakers: nothing for a worker whose breaker is open, no models whose breaker is open.
    Optional<ClaimAdmission> admitted = breakers.admit(claim);
    if (admitted.isEmpty()) {
      metrics.claim("refused");
      message.fail(BusFailure.NO_WORK, "no work (circuit open)");
      return false;
    }
    next(admitted.get().claim(), new HashSet<>(), 0).onComplete(ar -> {
      admitted.get().settle(ar.succeeded() ? ar.result().map(given -> given.assignment()).orElse(null) : null);
      metrics.claim(ar.succeeded() && ar.result().isPresent() ? "assigned" : "none");
      if (ar.failed()) {
        metrics.systemError("claim");
        LOG.warn("claim by worker {} failed: {}", claim.workerId(), ar.cause().toString());
        message.fail(BusFailure.UNAVAILABLE, "region storage unavailable: " + ar.cause().getMessage());
      } else if (ar.result().isPresent()) {
        answer(message, ar.result().get(), woken);
      } else if (deadlineNanos - System.nanoTime() >= 1_000_000) {
        parked.park(claim, (deadlineNanos - System.nanoTime()) / 1_000_000, () -> serve(claim, message, deadlineNanos, true),
            () -> message.fail(BusFailure.NO_WORK, "no work"));
      } else {
        message.fail(BusFailure.NO_WORK, "no work");
      }
    });
    return true;
  }

  /**
   * Gives the assignment. The worker of a claim that waited may have gone meanwhile: it must
   * acknowledge, or the request goes back to the queue, not started, no retry spent.
   */
  private void answer(Message<Object> message, Given given, boolean woken) {
    if (!woken) {
      message.reply(given.assignment().toJson());
      return;
    }
    message.replyAndRequest(given.assignment().toJson(), new DeliveryOptions().setSendTimeout(ACK_TIMEOUT_MS))
        .onFailure(err -> {
          RequestRow row = given.row();
          String why = "worker " + row.workerId() + " did not acknowledge its assignment (" + err.getMessage() + ")";
          LOG.warn("[{}] {}: back to the queue", row.id(), why);
          handBacks.handBack(row, WorkerHandBack.NOT_ACKNOWLEDGED, why).onFailure(e ->
              LOG.warn("[{}] not handed back ({}); its lease will lapse", row.id(), e.toString()));
        });
  }

  /**
   * The claim script's view of the worker, encoded: the last one of this worker when it was made of
   * the same claim and loaded models (nothing skipped, no batch), else a new one.
   */
  String workerView(Claim claim, Set<String> skipped) {
    List<String> held = heldModels(claim);
    if (!skipped.isEmpty() || claim.batchWith() != null) {
      return workerJson(claim, skipped, held).encode();
    }
    long vram = Math.max(0, claim.freeVramMb());
    EncodedView last = views.get(claim.workerId());
    if (last != null && last.vram() == vram && Objects.equals(last.gpuClass(), claim.gpuClass())
        && last.models().equals(claim.models()) && last.held().equals(held)) {
      return last.json();
    }
    String json = workerJson(claim, skipped, held).encode();
    if (views.size() >= MAX_VIEWS) {
      views.clear();
    }
    views.put(claim.workerId(), new EncodedView(claim.gpuClass(), vram, List.copyOf(claim.models()), List.copyOf(held), json));
    return json;
  }

  private List<String> heldModels(Claim claim) {
    return workers.worker(claim.workerId()).map(KnownWorker::loadedModels)
        .filter(models -> !models.isEmpty()).orElse(claim.models());
  }

  /** The claim script's view of the worker (see {@code lua/claim.lua}). */
  private JsonObject workerJson(Claim claim, Set<String> skipped, List<String> held) {
    JsonObject worker = new JsonObject()
        .put("w", claim.workerId())
        .put("vram", Math.max(0, claim.freeVramMb()))
        .put("models", new JsonArray(List.copyOf(claim.models())))
        .put("pref", new JsonArray(List.copyOf(held)))
        .put("skip", new JsonArray(List.copyOf(skipped)));
    if (claim.batchWith() != null) {
      worker.put("batch", claim.batchWith().key()).put("room", claim.batchWith().maxImages());
    }
    routing.classesFor(claim.gpuClass()).ifPresent(classes -> worker.put("classes", new JsonArray(List.copyOf(classes))));
    return worker;
  }

  private Future<Optional<Given>> next(Claim claim, Set<String> skipped, int round) {
    if (round >= MAX_ROUNDS || fenced.getAsBoolean()) {
      return Future.succeededFuture(Optional.empty());
    }
    return queue.claim(workerView(claim, skipped), leaseMs, clock.millis()).compose(claimed -> {
      if (claimed.orphans() > 0) {
        keysLost.run();
      }
      if (claimed.popped().isEmpty()) {
        return Future.succeededFuture(Optional.empty());
      }
      TierQueue.Popped item = claimed.popped().get();
      return log.assign(item.id(), claim.workerId(), claim.gpuClass(), claim.models(), claim.freeVramMb())
          .recover(err -> queue.putBack(item, claim.workerId()).transform(ignored -> Future.failedFuture(err)))
          .compose(change -> {
            if (change.isPresent()) {
              return Future.succeededFuture(Optional.of(new Given(assigned(change.get(), item, claim), change.get().row())));
            }
            return passOver(item, claim).compose(putBack -> {
              if (putBack) {
                skipped.add(item.id());
              }
              return next(claim, skipped, round + 1);
            });
          });
    });
  }

  private Assignment assigned(RequestLog.Change change, TierQueue.Popped item, Claim claim) {
    RequestRow row = change.row();
    assignedRows.put(row);
    hub.publish(change.event());
    metrics.dispatched(item.tier(), item.via());
    if (row.queuedAt() != null && row.assignedAt() != null) {
      metrics.queueWait(item.tier(), Duration.between(row.queuedAt(), row.assignedAt()));
    }
    eta.observeDispatch(row.generationSpec());
    LOG.debug("request {} ({}, {}) assigned to worker {} (attempt {})", row.id(), item.tier().wireName(), item.via(),
        claim.workerId(), row.attempt());
    return new Assignment(row.id(), row.attempt(), leaseMs, row.generationSpec(), row.traceParent());
  }

  /** The row was not assignable to this worker: put it back if it still waits (true), else drop it. */
  private Future<Boolean> passOver(TierQueue.Popped item, Claim claim) {
    return log.find(item.id()).compose(row -> {
      if (row.isPresent() && row.get().status() == RequestStatus.QUEUED) {
        return queue.putBack(item, claim.workerId()).map(true);
      }
      LOG.debug("request {} dropped from the {} queue: status {}", item.id(), item.tier().wireName(),
          row.map(r -> r.status().wireName()).orElse("unknown"));
      return queue.releaseLease(item.id(), claim.workerId()).map(false);
    });
  }
}
