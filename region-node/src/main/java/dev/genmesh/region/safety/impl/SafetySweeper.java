package dev.genmesh.region.safety.impl;

import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.region.safety.SafetyClient;
import dev.genmesh.region.safety.SafetyGate;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every {@code safety.retry_interval_ms}: checks again the requests waiting in SAFETY_PENDING
 * whose next check is due, read from the request log (so it survives a restart, and several
 * nodes of a region share the work without checking one request twice); raises one alert per
 * request waiting longer than {@code safety.alert_after_ms}; refreshes the pending gauge.
 */
public final class SafetySweeper {
  private static final Logger LOG = LoggerFactory.getLogger(SafetySweeper.class);
  /** Requests taken per claim; claims repeat within a pass while the service keeps answering. */
  static final int BATCH = 16;
  /** Bound on claims per pass, so that one pass does not run for ever behind a large backlog. */
  static final int MAX_BATCHES_PER_PASS = 8;
  public static final String ALERT_TYPE = "safety_pending_too_long";

  private final Vertx vertx;
  private final String region;
  private final SafetyLog safetyLog;
  private final SafetyGate gate;
  private final SafetyClient client;
  private final SafetyMetrics safetyMetrics;
  private final RegionMetrics metrics;
  private final Clock clock;
  private final long intervalMs;
  private final long alertAfterMs;
  private long timer = -1;
  private boolean inFlight;

  public SafetySweeper(RegionContext ctx, SafetyLog safetyLog, SafetyGate gate, SafetyClient client,
      SafetyMetrics safetyMetrics) {
    this.vertx = ctx.vertx();
    this.region = ctx.region();
    this.safetyLog = safetyLog;
    this.gate = gate;
    this.client = client;
    this.safetyMetrics = safetyMetrics;
    this.metrics = ctx.metrics();
    this.clock = ctx.clock();
    this.intervalMs = ctx.config().safety().retryIntervalMs();
    this.alertAfterMs = ctx.config().safety().alertAfterMs();
  }

  public void start() {
    timer = vertx.setPeriodic(intervalMs, id -> sweep());
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  /** One pass (skipped while the previous one runs). */
  void sweep() {
    if (inFlight) {
      return;
    }
    inFlight = true;
    alertOverdue()
        .compose(v -> checkDue(0))
        .compose(v -> safetyLog.pendingCount())
        .onSuccess(safetyMetrics::pending)
        .onFailure(err -> {
          // Every interval while PostgreSQL is down: counted always, logged at debug (the store's own errors say why).
          metrics.systemError("safety_sweep");
          LOG.debug("region {}: safety sweep failed: {}", region, err.toString());
        })
        .onComplete(ar -> inFlight = false);
  }

  private Future<Void> alertOverdue() {
    Instant now = clock.instant();
    return safetyLog.takeOverdue(now.minusMillis(alertAfterMs), now).map(overdue -> {
      for (SafetyLog.Overdue request : overdue) {
        long waitingMs = request.pendingSince() == null ? alertAfterMs
            : Math.max(0, Duration.between(request.pendingSince(), now).toMillis());
        LOG.warn("request {} has waited {} ms in safety_pending (alert after {} ms); safety circuit {}", request.id(),
            waitingMs, alertAfterMs, client.state());
        safetyMetrics.alerted();
        vertx.eventBus().publish(Addresses.ALERTS, new JsonObject()
            .put("type", ALERT_TYPE).put("region", region).put("request_id", request.id()).put("waiting_ms", waitingMs));
      }
      return null;
    });
  }

  /**
   * Claims due requests and checks them one after the other. While the circuit is open nothing
   * is claimed (the call would be refused anyway); half-open, one request is the trial call.
   */
  private Future<Void> checkDue(int batches) {
    if (batches >= MAX_BATCHES_PER_PASS || !client.acceptsCalls()) {
      return Future.succeededFuture();
    }
    int limit = "closed".equals(client.state()) ? BATCH : 1;
    Instant now = clock.instant();
    return safetyLog.takeDue(now, now.plusMillis(gate.claimMs()), limit).compose(rows -> {
      Future<Boolean> allAnswered = Future.succeededFuture(true);
      for (RequestRow row : rows) {
        allAnswered = allAnswered.compose(answered -> gate.check(row)
            .map(status -> answered && status != RequestStatus.SAFETY_PENDING));
      }
      return allAnswered.compose(answered -> answered && rows.size() == limit
          ? checkDue(batches + 1)
          : Future.succeededFuture());
    });
  }
}
