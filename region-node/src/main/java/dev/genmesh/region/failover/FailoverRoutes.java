package dev.genmesh.region.failover;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.protocol.failover.RegionDecision;
import dev.genmesh.region.api.impl.JsonReplies;
import dev.genmesh.replication.LogReplication;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The regional API's failover routes (region-node/API.md, "Failover"): submits refused while sync
 * replication cannot reach the peer ({@code on_peer_loss: refuse}); ids this region's peer
 * adopted answered with a 307 to the adopter; the operator's trigger ({@code POST
 * /internal/failover/decisions}, the same path as a quorum decision); the replication state.
 */
public final class FailoverRoutes {
  static final String DECISIONS = "/internal/failover/decisions";
  static final String REPLICATION = "/internal/replication";
  private static final long MAX_BODY = 64 * 1024;

  private final GenmeshConfig config;
  private final RegionFailover failover;
  private final LogReplication replication;
  private final String region;
  private final java.util.function.UnaryOperator<String> regionUrl;

  /** @param regionUrl region → the base URL it listens at now (its real port, also after a start on port 0) */
  public FailoverRoutes(GenmeshConfig config, String region, RegionFailover failover, LogReplication replication,
      java.util.function.UnaryOperator<String> regionUrl) {
    this.config = config;
    this.regionUrl = regionUrl;
    this.region = region;
    this.failover = failover;
    this.replication = replication;
  }

  /** Mounted ahead of the regional API's own routes. */
  public void mount(Router router) {
    router.post("/regional/v1/generations").order(-10).handler(this::refuseWhileUnreplicated);
    for (String path : List.of("/regional/v1/generations/:id", "/regional/v1/generations/:id/events",
        "/regional/v1/images/:id/*")) {
      router.route(path).order(-10).handler(this::adoptedElsewhere);
    }
    router.post(DECISIONS).handler(BodyHandler.create(false).setBodyLimit(MAX_BODY)).handler(this::decision);
    router.get(REPLICATION).handler(ctx -> JsonReplies.json(ctx, 200, replication.status().toJson().put("region", region)
        .put("ward", failover.ward().orElse(null))));
  }

  private void refuseWhileUnreplicated(RoutingContext ctx) {
    if (!replication.refusing()) {
      ctx.next();
      return;
    }
    ctx.response().putHeader(HttpHeaders.RETRY_AFTER, "5");
    JsonReplies.error(ctx, ApiError.of(ErrorCode.REPLICATION_UNAVAILABLE, "region " + region + " takes no new request while its"
        + " peer " + replication.status().peer() + " cannot hold its commits (replication.on_peer_loss: refuse)"));
  }

  private void adoptedElsewhere(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    Optional<String> adopter = id == null ? Optional.empty() : failover.adopterOf(id);
    if (adopter.isEmpty() || !config.regions().containsKey(adopter.get())) {
      ctx.next();
      return;
    }
    String known = regionUrl.apply(adopter.get());
    String location = (known != null ? known : config.region(adopter.get()).effectiveApiUrl()) + ctx.request().uri();
    JsonObject body = ApiError.of(ErrorCode.ADOPTED, "request " + id + " was adopted by " + adopter.get() + " while "
        + region + " was down; " + adopter.get() + " answers for it").toJson()
        .put("region", adopter.get()).put("location", location);
    ctx.response().putHeader(HttpHeaders.LOCATION, location);
    JsonReplies.json(ctx, 307, body);
  }

  private void decision(RoutingContext ctx) {
    RegionDecision decision;
    try {
      decision = parse(ctx.body().asJsonObject());
    } catch (DecodeException | IllegalArgumentException | NullPointerException | ClassCastException e) {
      JsonReplies.error(ctx, ApiError.of(ErrorCode.INVALID_JSON, "a decision is {region, state: down|up, adopter?, reason?}: "
          + e.getMessage()));
      return;
    }
    if (!config.regions().containsKey(decision.region())) {
      JsonReplies.error(ctx, ApiError.onField(ErrorCode.INVALID_FIELD, "region", "unknown region " + decision.region()));
      return;
    }
    failover.decide(decision)
        .onSuccess(outcome -> JsonReplies.json(ctx, 200, outcome.toJson().put("region", region).put("decision", decision.toJson())))
        .onFailure(ctx::fail);
  }

  /** A full {@link RegionDecision}, or the operator's short form {region, state, adopter?, reason?}. */
  private RegionDecision parse(JsonObject body) {
    if (body == null) {
      throw new IllegalArgumentException("no body");
    }
    if (body.containsKey("decided_at")) {
      return RegionDecision.fromJson(body);
    }
    RegionDecision.State state = RegionDecision.State.valueOf(body.getString("state", "down").toUpperCase());
    String about = body.getString("region");
    if (about == null) {
      throw new IllegalArgumentException("region is missing");
    }
    String adopter = state == RegionDecision.State.DOWN
        ? body.getString("adopter", config.replication().peerOf(about).orElse(null)) : null;
    Instant now = Instant.now();
    return new RegionDecision(about, state, adopter, now, now, List.of("operator"), List.of("operator"),
        body.getString("reason", "operator trigger"));
  }
}
