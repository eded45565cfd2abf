package dev.genmesh.region.safety;

import dev.genmesh.images.ImageStore;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.protocol.tracing.TraceParent;
import dev.genmesh.protocol.StoredImage;
import dev.genmesh.protocol.safety.SafetyCheck;
import dev.genmesh.protocol.safety.SafetyVerdict;
import dev.genmesh.region.node.ImagePaths;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.region.queue.TierQueue;
import dev.genmesh.region.requests.ProgressHub;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.region.safety.impl.SafetyLog;
import dev.genmesh.region.safety.impl.SafetyMetrics;
import dev.genmesh.region.safety.impl.SafetySweeper;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The safety gate (region-node/SAFETY.md): a finished attempt waits in SAFETY_PENDING with its
 * images in the region's object store (their keys in the log) but not served; the Safety API,
 * given the keys and presigned URLs to read them by, moves it to COMPLETED (allow) or FAILED
 * {@value SafetyLog#BLOCKED} (block, objects deleted). Without an answer it keeps waiting and
 * {@link SafetySweeper} asks again. Nothing reaches COMPLETED any other way.
 */
public final class SafetyGate {
  private static final Logger LOG = LoggerFactory.getLogger(SafetyGate.class);
  /** What the user is told while the first check runs. */
  public static final String CHECKING = "waiting for the safety check";
  /** What the user is told while the Safety API does not answer. */
  public static final String UNAVAILABLE = "safety service unavailable; your image is waiting for its check";

  private final SafetyClient client;
  private final SafetyLog safetyLog;
  private final RequestLog log;
  private final ImageStore images;
  private final TierQueue queue;
  private final ProgressHub hub;
  private final RegionMetrics metrics;
  private final SafetyMetrics safetyMetrics;
  private final Clock clock;
  private final Duration presignTtl;
  private final long claimMs;
  private final long retryIntervalMs;
  /** Whether a result may be checked before it is written: only while a hung check cannot outlast the lease. */
  private final boolean checkFirst;
  private final Vertx vertx;
  /** Leases to delete at the end of this event-loop turn, in one command (a commit completes several results at once). */
  private List<String> leasesToDrop = new ArrayList<>();
  private volatile ResultHold holds = ResultHold.NEVER;

  /** A worker's result the log took: the row after the change, and the status the worker is answered. */
  public record Taken(RequestRow row, RequestStatus status) {}

  public SafetyGate(RegionContext ctx, SafetyClient client, SafetyLog safetyLog, ImageStore images,
      SafetyMetrics safetyMetrics) {
    this.client = client;
    this.safetyLog = safetyLog;
    this.log = ctx.log();
    this.vertx = ctx.vertx();
    this.images = images;
    this.queue = ctx.queue();
    this.hub = ctx.hub();
    this.metrics = ctx.metrics();
    this.safetyMetrics = safetyMetrics;
    this.clock = ctx.clock();
    this.retryIntervalMs = ctx.config().safety().retryIntervalMs();
    this.presignTtl = Duration.ofMillis(ctx.config().images().presignTtlMs());
    // Long enough for the check that follows, so that no other node's sweeper takes it meanwhile.
    this.claimMs = ctx.config().safety().timeoutMs() + retryIntervalMs;
    this.checkFirst = ctx.config().queue().leaseMs() >= 2L * ctx.config().safety().timeoutMs();
  }

  /** What keeps results unpublished while the region may be adopted (set before results arrive; default: never). */
  public void holdWith(ResultHold holds) {
    this.holds = holds;
  }

  /** How long a node holds a waiting request for the check it is about to make. */
  public long claimMs() {
    return claimMs;
  }

  /**
   * The current attempt's images are in the object store: RUNNING → SAFETY_PENDING, their keys
   * recorded. Empty if the attempt is stale. Call {@link #held} with the change once the caller's
   * ordering allows.
   */
  public Future<Optional<RequestLog.Change>> hold(String id, int attempt, List<StoredImage> stored) {
    return hold(id, attempt, stored, 0);
  }

  /** As above, recording the GPU time the worker reported for the attempt ({@code gpu_ms}, what quotas meter). */
  public Future<Optional<RequestLog.Change>> hold(String id, int attempt, List<StoredImage> stored, long gpuMs) {
    Instant now = clock.instant();
    return safetyLog.hold(id, attempt, stored, CHECKING, now, now.plusMillis(claimMs), gpuMs);
  }

  /**
   * Takes a worker's result (region-node/SAFETY.md): its images are in the object store under the
   * attempt's keys. With {@code assigned}, the row this node assigned for that attempt, and nothing
   * against it (no hold, the circuit not open), the check runs first and an {@code allow} is
   * written in one statement, RUNNING → COMPLETED; any other answer, or no {@code assigned}, goes
   * through SAFETY_PENDING ({@link #hold}, then the check, or the verdict already had). Answers the
   * status for the worker; empty when the attempt is not current (stale, cancelled, or taken
   * already). Fails when the log could not be written.
   */
  public Future<Optional<Taken>> take(String id, int attempt, List<StoredImage> stored, long gpuMs, RequestRow assigned) {
    if (assigned == null || !checkFirst || holds.reason() != null || !client.acceptsCalls()) {
      return holdThen(id, attempt, stored, gpuMs, this::check);
    }
    Span span = TraceParent.start("safety.check", SpanKind.INTERNAL, assigned.traceParent());
    span.setAttribute("genmesh.request_id", id);
    span.setAttribute("genmesh.images", stored.size());
    span.setAttribute("genmesh.safety.before_hold", true);
    return Future.succeededFuture(assigned)
        .map(row -> checkOf(id, row.generationSpec(), stored))
        .compose(client::check)
        .recover(err -> Future.succeededFuture(SafetyVerdict.unavailable(String.valueOf(err.getMessage()))))
        .compose(verdict -> {
          span.setAttribute("genmesh.safety.verdict", verdict.wireName());
          if (verdict.outcome() != SafetyVerdict.Outcome.ALLOW || holds.reason() != null) {
            // Not allowed, no answer, or a hold began: the result waits in SAFETY_PENDING like any other, this verdict applied.
            return holdThen(id, attempt, stored, gpuMs, held -> apply(held, verdict).recover(err -> notRecorded(held, err)));
          }
          safetyMetrics.checked(verdict.wireName());
          return safetyLog.complete(id, attempt, stored, gpuMs, paths(id, stored.size()), verdict.toJson())
              .compose(changed -> changed.isEmpty() ? Future.succeededFuture(Optional.<Taken>empty())
                  : completedAtOnce(changed.get()).map(Optional::of));
        })
        .onComplete(ar -> span.end());
  }

  private Future<Taken> completedAtOnce(RequestLog.Change change) {
    RequestRow row = change.row();
    dropLease(row.id());
    String late = holds.reason();
    if (late != null) {
      return heldBack(row, late, change).map(status -> new Taken(row, status)); // committed while the hold began
    }
    finished(change, "completed");
    return Future.succeededFuture(new Taken(row, RequestStatus.COMPLETED));
  }

  /** RUNNING → SAFETY_PENDING (stale: empty), then {@code next} on the held row for the worker's answer. */
  private Future<Optional<Taken>> holdThen(String id, int attempt, List<StoredImage> stored, long gpuMs,
      Function<RequestRow, Future<RequestStatus>> next) {
    return hold(id, attempt, stored, gpuMs).compose(changed -> {
      if (changed.isEmpty()) {
        return Future.succeededFuture(Optional.empty());
      }
      held(changed.get());
      RequestRow row = changed.get().row();
      return next.apply(row).map(status -> Optional.of(new Taken(row, status)));
    });
  }

  /** Tells the stream the request waits for its check, and drops the lease (no worker holds it now). */
  public void held(RequestLog.Change change) {
    hub.publish(change.event());
    dropLease(change.row().id());
  }

  /** Drops the lease (no worker holds the request now) with the others dropped in the same event-loop turn. */
  private void dropLease(String id) {
    synchronized (this) {
      leasesToDrop.add(id);
      if (leasesToDrop.size() > 1) {
        return;
      }
    }
    vertx.getOrCreateContext().runOnContext(v -> {
      List<String> ids;
      synchronized (this) {
        ids = leasesToDrop;
        leasesToDrop = new ArrayList<>();
      }
      queue.deleteLeases(ids).onFailure(err ->
          LOG.debug("requests {} taken from their workers, lease keys not deleted (they expire): {}", ids, err.toString()));
    });
  }

  /**
   * Asks the Safety API about a waiting request (its images by key and presigned URL, never their
   * bytes) and applies the answer. Answers the request's status afterwards (SAFETY_PENDING when
   * there was no answer, or when the log could not be written: the sweeper asks again). Never fails.
   */
  public Future<RequestStatus> check(RequestRow row) {
    // A child of the worker's result message (or, from the sweeper, of the submit's trace).
    Span span = TraceParent.start("safety.check", SpanKind.INTERNAL, row.traceParent());
    span.setAttribute("genmesh.request_id", row.id());
    span.setAttribute("genmesh.images", row.images().size());
    return checkNow(row).onComplete(ar -> {
      span.setAttribute("genmesh.safety.status", ar.succeeded() ? ar.result().wireName() : "error");
      span.end();
    });
  }

  private Future<RequestStatus> checkNow(RequestRow row) {
    String held = holds.reason();
    if (held != null) {
      return heldBack(row, held, null);
    }
    return Future.succeededFuture(row)
        .map(r -> checkOf(r.id(), r.generationSpec(), r.images()))
        .compose(client::check)
        .compose(verdict -> apply(row, verdict))
        .recover(err -> notRecorded(row, err));
  }

  private Future<RequestStatus> notRecorded(RequestRow row, Throwable err) {
    metrics.systemError("safety");
    LOG.warn("request {}: safety verdict not recorded, it stays safety_pending: {}", row.id(), err.toString());
    return Future.succeededFuture(RequestStatus.SAFETY_PENDING);
  }

  /** What the Safety API is asked: the images by key and a presigned URL, never their bytes. */
  private SafetyCheck checkOf(String id, GenerationSpec spec, List<StoredImage> stored) {
    List<SafetyCheck.Image> toCheck = new ArrayList<>(stored.size());
    for (StoredImage image : stored) {
      toCheck.add(new SafetyCheck.Image(image.key(), images.presignGet(image.key(), presignTtl), image.size(), image.sha256()));
    }
    return new SafetyCheck(id, spec.prompt(), spec.negativePrompt(), spec.width(), spec.height(), toCheck);
  }

  private Future<RequestStatus> apply(RequestRow row, SafetyVerdict verdict) {
    safetyMetrics.checked(verdict.wireName());
    String id = row.id();
    String held = verdict.outcome() == SafetyVerdict.Outcome.UNAVAILABLE ? null : holds.reason();
    if (held != null) {
      return heldBack(row, held, null); // the verdict came while the hold began: the check runs again on release
    }
    return switch (verdict.outcome()) {
      case ALLOW -> safetyLog.allow(id, row.attempt(), paths(row), verdict.toJson()).compose(changed -> {
        String late = changed.isPresent() ? holds.reason() : null;
        if (late != null) {
          return heldBack(row, late, changed.get()); // committed while the hold began (a sync commit released by a degrade)
        }
        changed.ifPresent(change -> finished(change, "completed"));
        return statusAfter(id, changed);
      });
      case BLOCK -> safetyLog.block(id, row.attempt(), verdict.reasons()).compose(changed -> {
        String late = changed.isPresent() ? holds.reason() : null;
        if (late != null) {
          return heldBack(row, late, changed.get());
        }
        changed.ifPresent(change -> {
          LOG.info("request {} blocked by the safety check: {}", id, verdict.reasons());
          finished(change, "blocked");
          images.delete(row.images().stream().map(StoredImage::key).toList()).onFailure(err ->
              LOG.warn("request {}: blocked images not deleted (the image sweeper will): {}", id, err.toString()));
        });
        return statusAfter(id, changed);
      });
      case UNAVAILABLE -> safetyLog.waiting(id, row.attempt(), UNAVAILABLE, clock.instant().plusMillis(retryIntervalMs))
          .compose(changed -> {
            changed.ifPresent(change -> {
              // Once per request and reason: the event tells the user, the log tells the operator.
              LOG.warn("request {} waits in safety_pending: safety service unavailable ({})", id, verdict.detail());
              hub.publish(change.event());
            });
            return statusAfter(id, changed);
          });
    };
  }

  /** The result stays unpublished (a hold, or a committed verdict whose event waits); SAFETY_PENDING as the worker sees it. */
  private Future<RequestStatus> heldBack(RequestRow row, String reason, RequestLog.Change committed) {
    return holds.hold(row, reason, committed).transform(ar -> {
      if (ar.failed()) {
        metrics.systemError("result_hold");
        LOG.warn("request {}: held result not recorded ({}); the sweeper checks it again", row.id(), ar.cause().toString());
      }
      return Future.succeededFuture(committed == null ? RequestStatus.SAFETY_PENDING : committed.row().status());
    });
  }

  private Future<RequestStatus> statusAfter(String id, Optional<RequestLog.Change> changed) {
    if (changed.isPresent()) {
      return Future.succeededFuture(changed.get().row().status());
    }
    // Cancelled meanwhile, or another node's check got there first.
    return log.find(id).map(found -> found.map(RequestRow::status).orElse(RequestStatus.SAFETY_PENDING));
  }

  private void finished(RequestLog.Change change, String what) {
    hub.publish(change);
    metrics.request(change.row().tier(), change.row().status());
    LOG.debug("request {} {} by the safety gate", change.row().id(), what);
  }

  public static JsonArray paths(RequestRow row) {
    return paths(row.id(), row.imageCount() == null ? 0 : row.imageCount());
  }

  private static JsonArray paths(String id, int count) {
    JsonArray paths = new JsonArray();
    for (int i = 0; i < count; i++) {
      paths.add(ImagePaths.publicPath(id, i));
    }
    return paths;
  }
}
