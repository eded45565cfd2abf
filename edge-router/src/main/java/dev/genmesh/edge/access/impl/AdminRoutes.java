package dev.genmesh.edge.access.impl;

import dev.genmesh.edge.impl.JsonReplies;
import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.users.UserStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /v1/admin}: accounts and keys, for a caller with an admin key (edge-router/API.md,
 * "Admin"). A key issued here is in the answer once and nowhere else. A revocation or a disabled
 * account takes effect on this edge at once and on every other within {@code users.cache_ms}.
 */
public final class AdminRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(AdminRoutes.class);

  private final UserStore users;
  private final Callers callers;
  private final UsersReplies replies;

  AdminRoutes(UserStore users, Callers callers, UsersReplies replies) {
    this.users = users;
    this.callers = callers;
    this.replies = replies;
  }

  /** {@code GET /v1/admin/users} */
  public void listUsers(RoutingContext ctx) {
    answer(ctx, "list_users", users.users(), 200, listed -> list("users", listed, UsersReplies::json));
  }

  /** {@code POST /v1/admin/users} with {@code {"id": "...", "tiers": [...]}} (tiers optional: all). */
  public void addUser(RoutingContext ctx) {
    JsonObject body = body(ctx);
    List<String> tiers = body == null ? null : texts(ctx, body, "tiers");
    if (tiers == null) {
      return;
    }
    if (!(body.getValue("id") instanceof String id)) {
      JsonReplies.error(ctx, ApiError.onField(ErrorCode.MISSING_FIELD, "id", "id (the new user's id, a string) is required"));
      return;
    }
    answer(ctx, "add_user", users.addUser(id, tiers).onSuccess(added ->
        LOG.info("admin {} added user {}", AccessRoutes.caller(ctx).user(), id)), 201, UsersReplies::json);
  }

  /** {@code POST /v1/admin/users/{user}/disable} */
  public void disableUser(RoutingContext ctx) {
    String id = ctx.pathParam("user");
    answer(ctx, "disable_user", users.disableUser(id).onSuccess(disabled -> {
      callers.forgetUser(id);
      LOG.info("admin {} disabled user {}", AccessRoutes.caller(ctx).user(), id);
    }), 200, UsersReplies::json);
  }

  /** {@code GET /v1/admin/keys?user=ID} (every user's without {@code user}) */
  public void listKeys(RoutingContext ctx) {
    answer(ctx, "list_keys", users.keys(ctx.request().getParam("user")), 200,
        listed -> list("keys", listed, UsersReplies::json));
  }

  /** {@code POST /v1/admin/keys} with {@code {"user": "...", "tiers": [...], "admin": false}}: the key, once. */
  public void issueKey(RoutingContext ctx) {
    JsonObject body = body(ctx);
    List<String> tiers = body == null ? null : texts(ctx, body, "tiers");
    if (tiers == null) {
      return;
    }
    Object admin = body.getValue("admin", false);
    if (!(body.getValue("user") instanceof String user)) {
      JsonReplies.error(ctx, ApiError.onField(ErrorCode.MISSING_FIELD, "user", "user (the key's owner, a string) is required"));
      return;
    }
    if (!(admin instanceof Boolean isAdmin)) {
      JsonReplies.error(ctx, ApiError.onField(ErrorCode.INVALID_FIELD, "admin", "admin must be true or false"));
      return;
    }
    answer(ctx, "issue_key", users.issueKey(user, tiers, isAdmin).onSuccess(issued ->
            LOG.info("admin {} issued key {} to {}{}", AccessRoutes.caller(ctx).user(), issued.key().id(), user,
                isAdmin ? " (admin)" : "")),
        201, issued -> UsersReplies.json(issued.key()).put("key", issued.secret()));
  }

  /** {@code DELETE /v1/admin/keys/{key}}: revoked, here at once. */
  public void revokeKey(RoutingContext ctx) {
    String id = ctx.pathParam("key");
    answer(ctx, "revoke_key", users.revokeKey(id).onSuccess(revoked -> {
      callers.forgetKey(id);
      LOG.info("admin {} revoked key {} of {}", AccessRoutes.caller(ctx).user(), id, revoked.userId());
    }), 200, UsersReplies::json);
  }

  /** The call's result as {@code status} with its JSON, or its failure as {@link UsersReplies#failed} says. */
  private <T> void answer(RoutingContext ctx, String operation, Future<T> call, int status, Function<T, JsonObject> json) {
    call.onComplete(done -> {
      if (done.failed()) {
        replies.failed(ctx, operation, done.cause());
      } else {
        JsonReplies.json(ctx, status, json.apply(done.result()));
      }
    });
  }

  private static <T> JsonObject list(String name, List<T> items, Function<T, JsonObject> json) {
    JsonArray array = new JsonArray();
    items.forEach(item -> array.add(json.apply(item)));
    return new JsonObject().put(name, array);
  }

  /** The JSON object body, or null after answering 400. */
  private static JsonObject body(RoutingContext ctx) {
    try {
      JsonObject body = ctx.body().asJsonObject();
      if (body != null) {
        return body;
      }
    } catch (RuntimeException e) {
      // answered below
    }
    JsonReplies.error(ctx, ApiError.of(ErrorCode.INVALID_JSON, "the body must be a JSON object"));
    return null;
  }

  /** The optional list of strings {@code field} (empty when absent), or null after answering 400. */
  private static List<String> texts(RoutingContext ctx, JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value == null) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    if (value instanceof JsonArray array) {
      for (Object item : array) {
        if (!(item instanceof String text)) {
          out = null;
          break;
        }
        out.add(text);
      }
    } else {
      out = null;
    }
    if (out == null) {
      JsonReplies.error(ctx, ApiError.onField(ErrorCode.INVALID_FIELD, field, field + " must be a list of tier names"));
    }
    return out;
  }
}
