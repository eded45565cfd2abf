package dev.genmesh.edge.access.impl;

import dev.genmesh.edge.impl.JsonReplies;
import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.users.ApiKey;
import dev.genmesh.users.Generation;
import dev.genmesh.users.User;
import dev.genmesh.users.UsersFailure;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The JSON of users, keys and generations, and the answer to a user database failure. */
final class UsersReplies {
  private static final Logger LOG = LoggerFactory.getLogger(UsersReplies.class);
  static final String FAILURES = "genmesh.edge.users.failures";

  private final MeterRegistry meters;
  private final long retryAfterSeconds;

  UsersReplies(MeterRegistry meters, long retryAfterSeconds) {
    this.meters = meters;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** A caller's mistake as its 4xx; anything else logged once, counted, and answered 503. */
  void failed(RoutingContext ctx, String operation, Throwable failure) {
    if (failure instanceof UsersFailure refused) {
      ErrorCode code = switch (refused.kind()) {
        case NOT_FOUND -> ErrorCode.NOT_FOUND;
        case CONFLICT -> ErrorCode.CONFLICT;
        case INVALID -> ErrorCode.INVALID_FIELD;
      };
      JsonReplies.error(ctx, new ApiError(code, refused.getMessage(), refused.field()));
      return;
    }
    LOG.warn("user database: {} failed ({})", operation, failure.toString());
    Counter.builder(FAILURES).description("Calls to the user database that failed").tag("operation", operation)
        .register(meters).increment();
    JsonReplies.unavailable(ctx, ErrorCode.USERS_UNAVAILABLE, "the user database cannot answer now; retry later",
        retryAfterSeconds);
  }

  /** Counts and logs a failed write nobody waits for (the generation index). */
  void lost(String operation, String requestId, Throwable failure) {
    LOG.warn("request {}: user database {} failed ({}); its listing entry may be missing or stale", requestId, operation,
        failure.toString());
    Counter.builder(FAILURES).description("Calls to the user database that failed").tag("operation", operation)
        .register(meters).increment();
  }

  static JsonObject json(User user) {
    return new JsonObject().put("id", user.id()).put("tiers", new JsonArray(user.tiers()))
        .put("enabled", user.enabled()).put("created_at", text(user.createdAt())).put("disabled_at", text(user.disabledAt()));
  }

  static JsonObject json(ApiKey key) {
    return new JsonObject().put("id", key.id()).put("user", key.userId()).put("tiers", new JsonArray(key.tiers()))
        .put("admin", key.admin()).put("created_at", text(key.createdAt())).put("revoked_at", text(key.revokedAt()));
  }

  static JsonObject json(Generation g) {
    return new JsonObject().put("id", g.id()).put("region", g.region()).put("tier", g.tier()).put("status", g.status())
        .put("created_at", text(g.createdAt())).put("links", new JsonObject().put("self", "/v1/generations/" + g.id()));
  }

  private static String text(Instant at) {
    return at == null ? null : at.toString();
  }
}
