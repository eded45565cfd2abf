package dev.genmesh.region.api.impl;

import static dev.genmesh.region.api.impl.JsonReplies.error;
import static dev.genmesh.region.api.impl.JsonReplies.json;

import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.protocol.RequestIds;
import dev.genmesh.region.requests.ReplicaReads;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.impl.Cancellations;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Optional;

/** {@code GET} and {@code DELETE /regional/v1/generations/:id}: a request's status, and its cancel. */
public final class GenerationRoutes {
  private final String region;
  private final RequestLog log;
  private final Cancellations cancellations;
  private final LiveView views;
  private final ApiFailures failures;
  private final ReplicaReads replica;

  public GenerationRoutes(String region, RequestLog log, Cancellations cancellations, LiveView views,
      ApiFailures failures, ReplicaReads replica) {
    this.replica = replica;
    this.region = region;
    this.log = log;
    this.cancellations = cancellations;
    this.views = views;
    this.failures = failures;
  }

  public void status(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    if (!RequestIds.isWellFormed(id)) {
      failures.notFound(ctx, id);
      return;
    }
    log.find(id).compose(row -> row.isEmpty() ? Future.succeededFuture(Optional.<JsonObject>empty()) : views.of(row.get()).map(Optional::of))
        .compose(view -> view.isPresent() ? Future.succeededFuture(view) : replica.ended(id).map(ended -> ended.map(this::fromReplica)))
        .onSuccess(view -> {
          if (view.isEmpty()) {
            failures.notFound(ctx, id);
          } else {
            json(ctx, 200, view.get());
          }
        })
        .onFailure(err -> failures.storageError(ctx, "status", id, err));
  }

  /** {@code DELETE}: 200 with the cancelled view, 409 if it already ended, 404 if unknown. */
  public void cancel(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    if (!RequestIds.isWellFormed(id)) {
      failures.notFound(ctx, id);
      return;
    }
    cancellations.cancel(id)
        .onSuccess(outcome -> {
          if (outcome.isEmpty()) {
            endedInWard(ctx, id);
          } else if (!outcome.get().cancelled()) {
            error(ctx, ApiError.of(ErrorCode.ALREADY_TERMINAL,
                "request " + id + " is already " + outcome.get().row().status().wireName()));
          } else {
            json(ctx, 200, RequestView.of(outcome.get().row(), region, null, null));
          }
        })
        .onFailure(err -> failures.storageError(ctx, "cancel", id, err));
  }

  /** The ward's view of a request that ended there, as the ward would answer, marked as read from the replica here. */
  private JsonObject fromReplica(ReplicaReads.Ended ended) {
    return RequestView.of(ended.row(), ended.ward(), null, null).put("served_from", "replica").put("served_by", region);
  }

  /** Cancel of an id not in this log: 409 if it ended in the ward (the replica is read-only), else 404. */
  private void endedInWard(RoutingContext ctx, String id) {
    replica.ended(id).onSuccess(ended -> {
      if (ended.isEmpty()) {
        failures.notFound(ctx, id);
      } else {
        error(ctx, ApiError.of(ErrorCode.ALREADY_TERMINAL, "request " + id + " is already "
            + ended.get().row().status().wireName() + " (in " + ended.get().ward() + ", read from its replica here)"));
      }
    }).onFailure(err -> failures.storageError(ctx, "cancel", id, err));
  }
}
