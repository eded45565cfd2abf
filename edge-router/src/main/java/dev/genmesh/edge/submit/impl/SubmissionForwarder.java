package dev.genmesh.edge.submit.impl;

import dev.genmesh.edge.impl.EdgeMetrics;
import dev.genmesh.edge.regions.impl.RegionDirectory;
import dev.genmesh.edge.regions.impl.RegionHealth;
import dev.genmesh.edge.regions.impl.RegionPicker;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Submits a validated request to the best region and, when that region cannot take it (no
 * connection, timeout, 502/503/504), to the next candidate: the spill-over. An answer about the
 * request itself (a 4xx, or another 5xx such as a value the region's store refused) is final:
 * not retried elsewhere, and not counted against the region ({@link SubmitOutcome}).
 *
 * <p>A 503 {@code overloaded} is a region shedding the request's tier (its global circuit
 * breaker is open): the request spills over too, but the region stays healthy for the tiers it
 * still takes. When every region sheds, the client gets 503 {@code overloaded} with the shortest
 * Retry-After the regions gave.
 */
public final class SubmissionForwarder {
  private static final Logger LOG = LoggerFactory.getLogger(SubmissionForwarder.class);

  /** A region's answer that the client gets: 2xx with a view, or its final error about the request. */
  public record Forwarded(String region, HttpResponse<Buffer> response, JsonObject view) {
    public boolean accepted() {
      return view != null;
    }
  }

  /** No candidate region took the request; the client may retry after the given time. */
  public static final class NoRegionAvailable extends RuntimeException {
    private final long retryAfterSeconds;
    private final boolean overloaded;

    NoRegionAvailable(String message, long retryAfterSeconds, boolean overloaded) {
      super(message, null, false, false);
      this.retryAfterSeconds = retryAfterSeconds;
      this.overloaded = overloaded;
    }

    public long retryAfterSeconds() {
      return retryAfterSeconds;
    }

    /** True when every region tried answered that it sheds this tier. */
    public boolean overloaded() {
      return overloaded;
    }
  }

  private final RegionDirectory regions;
  private final RegionPicker picker;
  private final RegionHealth health;
  private final EdgeMetrics metrics;
  private final long defaultRetryAfterSeconds;

  public SubmissionForwarder(
      RegionDirectory regions, RegionPicker picker, RegionHealth health, EdgeMetrics metrics, long defaultRetryAfterSeconds) {
    this.regions = regions;
    this.picker = picker;
    this.health = health;
    this.metrics = metrics;
    this.defaultRetryAfterSeconds = defaultRetryAfterSeconds;
  }

  /**
   * @param user the caller, for the region's per-user fairness
   * @param logRef how log lines name this request before it has an id (its idempotency key)
   */
  public Future<Forwarded> forward(Validation request, String user, String logRef) {
    return forward(request, user, logRef, 0);
  }

  /** As above, at a regional {@code priority} (negative: behind others of its tier; 0 is not sent). */
  public Future<Forwarded> forward(Validation request, String user, String logRef, int priority) {
    JsonObject body = request.spec().toJson().put("user", user);
    if (priority != 0) {
      body.put("priority", priority);
    }
    if (request.idempotencyKey() != null) {
      body.put("idempotency_key", request.idempotencyKey());
      if (request.requestHash() != null) {
        body.put("request_hash", request.requestHash());
      }
    }
    // A region the failover quorum holds DOWN gets no submit, even as a last resort.
    List<String> candidates = picker.candidates(health.snapshot()).stream().filter(r -> !regions.isDown(r)).toList();
    return attempt(candidates, 0, body, logRef, Long.MAX_VALUE, true);
  }

  private Future<Forwarded> attempt(List<String> candidates, int index, JsonObject body, String logRef, long retryAfter,
      boolean allOverloaded) {
    if (index >= candidates.size()) {
      long wait = retryAfter == Long.MAX_VALUE ? defaultRetryAfterSeconds : retryAfter;
      return Future.failedFuture(new NoRegionAvailable("no region accepted the request (tried " + candidates + ")", wait,
          allOverloaded && !candidates.isEmpty()));
    }
    String region = candidates.get(index);
    return regions.byName(region).submit(body).transform(answer -> {
      SubmitOutcome outcome = SubmitOutcome.of(answer);
      if (outcome == SubmitOutcome.ACCEPTED) {
        health.markHealthy(region, "accepted a submit");
        return Future.succeededFuture(new Forwarded(region, answer.result(), SubmitOutcome.view(answer.result())));
      }
      if (!outcome.spills()) {
        return Future.succeededFuture(new Forwarded(region, answer.result(), null));
      }
      String reason = failure(answer);
      boolean overloaded = outcome == SubmitOutcome.SHED;
      if (outcome.countsAgainstRegion()) {
        health.markUnhealthy(region, "submit failed: " + reason);
      }
      long nextRetryAfter = Math.min(retryAfter, retryAfterOf(answer));
      if (index + 1 < candidates.size()) {
        String next = candidates.get(index + 1);
        metrics.spillover(region, next);
        LOG.warn("request {}: region {} could not take it ({}); spilling over to {}", logRef, region, reason, next);
      } else {
        LOG.warn("request {}: region {} could not take it ({}); no region left to try", logRef, region, reason);
      }
      return attempt(candidates, index + 1, body, logRef, nextRetryAfter, allOverloaded && overloaded);
    });
  }

  private static String failure(AsyncResult<HttpResponse<Buffer>> answer) {
    if (answer.failed()) {
      String message = answer.cause().getMessage();
      return answer.cause().getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }
    int status = answer.result().statusCode();
    return status >= 300 ? "answered " + status : "answered " + status + " without a usable view";
  }

  private static long retryAfterOf(AsyncResult<HttpResponse<Buffer>> answer) {
    if (answer.succeeded()) {
      String header = answer.result().getHeader("Retry-After");
      if (header != null) {
        try {
          return Math.max(1, Long.parseLong(header.trim()));
        } catch (NumberFormatException httpDate) {
          return Long.MAX_VALUE;
        }
      }
    }
    return Long.MAX_VALUE;
  }
}
