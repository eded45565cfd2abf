package dev.genmesh.inference.impl;

import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.FailureType;
import dev.genmesh.protocol.tracing.TraceParent;
import dev.genmesh.protocol.WorkerMessages;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What a worker tells its region about the requests it runs: steps, results, failures. */
public final class RegionReports {
  private static final Logger LOG = LoggerFactory.getLogger(RegionReports.class);
  private static final long BUS_TIMEOUT_MS = 10_000;
  private static final int RESULT_ATTEMPTS = 5;

  private static final AttributeKey<Long> STEP = AttributeKey.longKey("genmesh.step");
  private static final AttributeKey<Long> TOTAL = AttributeKey.longKey("genmesh.total");

  private final Vertx vertx;
  private final String region;
  private final String workerId;
  private final Timer stepTime;

  public RegionReports(Vertx vertx, String region, String workerId, Timer stepTime) {
    this.vertx = vertx;
    this.region = region;
    this.workerId = workerId;
    this.stepTime = stepTime;
  }

  /** A step of one request (any thread: the TF thread calls it). */
  public void step(RequestRun run, int step, int total, long nanosInTensorFlow, long nanosTotal, byte[] preview) {
    stepTime.record(nanosInTensorFlow, TimeUnit.NANOSECONDS);
    var report = new WorkerMessages.Step(run.id(), run.assignment().attempt(), workerId, step, total, nanosTotal / 1e6,
        preview == null ? null : Base64.getEncoder().encodeToString(preview));
    run.span().addEvent("step", Attributes.of(STEP, (long) step, TOTAL, (long) total));
    vertx.eventBus().send(Addresses.progress(region), report.toJson(), TraceParent.onMessage(new DeliveryOptions(), run.span()));
  }

  /**
   * Hands the stored images' keys to the region, retrying with backoff. True when the region took
   * them; false when it answered that the attempt is stale (not retried: the request moved on).
   */
  public Future<Boolean> result(RequestRun run, WorkerMessages.Result result) {
    return handIn(run, result, RESULT_ATTEMPTS).onComplete(ar -> run.endSpan(ar.succeeded() ? "handed_in" : "not_handed_in"));
  }

  private Future<Boolean> handIn(RequestRun run, WorkerMessages.Result result, int attemptsLeft) {
    DeliveryOptions options = TraceParent.onMessage(new DeliveryOptions().setSendTimeout(BUS_TIMEOUT_MS), run.span());
    return vertx.eventBus().request(Addresses.result(region), result.toJson(), options)
        .map(reply -> true)
        .recover(e -> {
          if (e instanceof ReplyException re && re.failureCode() == BusFailure.STALE_ATTEMPT) {
            run.traced(() -> LOG.info("[{}] result of attempt {} discarded by the region (request moved on)", result.requestId(), result.attempt()));
            return Future.succeededFuture(false);
          }
          if (attemptsLeft <= 1) {
            return Future.failedFuture(e);
          }
          long delay = 200L * (RESULT_ATTEMPTS - attemptsLeft + 1);
          run.traced(() -> LOG.warn("[{}] handing in the result failed ({}), retrying in {} ms", result.requestId(), e.getMessage(), delay));
          return vertx.timer(delay).compose(t -> handIn(run, result, attemptsLeft - 1));
        });
  }

  /** The typed failure of one attempt; the region's retry policy reads the type. */
  public void failure(RequestRun run, String type, String message) {
    if (FailureType.CANCELLED.equals(type)) {
      run.traced(() -> LOG.info("[{}] stopped on worker {} after cancellation", run.id(), workerId));
    }
    var failure = new WorkerMessages.Failure(run.id(), run.assignment().attempt(), workerId, type, message);
    run.endSpan("failed: " + type);
    vertx.eventBus().request(Addresses.failure(region), failure.toJson(),
            TraceParent.onMessage(new DeliveryOptions().setSendTimeout(BUS_TIMEOUT_MS), run.span()))
        .onFailure(e -> LOG.warn("[{}] region did not take the failure report: {}", run.id(), e.getMessage()));
  }
}
