package dev.genmesh.edge.access.impl;

import dev.genmesh.edge.impl.JsonReplies;
import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.users.Generation;
import dev.genmesh.users.UserStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * Each user's generations: the edge adds a request to its owner's index in the user database when
 * a region accepts it, updates its status when the owner reads it, and answers {@code GET
 * /v1/generations} from the index, newest first, a page at a time ({@code limit}, {@code cursor}).
 * Index writes are not awaited: a submit's 202 depends on its region's commit only, and a lost
 * write costs a listing entry (logged and counted), never the request.
 */
public final class GenerationListing implements GenerationIndex {
  static final int DEFAULT_PAGE = 20;

  private final UserStore users;
  private final Owners owners;
  private final UsersReplies replies;
  private final int maxPage;
  private final Clock clock;

  /** @param users null: no user database (owners are still remembered; the listing answers 404) */
  GenerationListing(UserStore users, Owners owners, UsersReplies replies, int maxPage, Clock clock) {
    this.users = users;
    this.owners = owners;
    this.replies = replies;
    this.maxPage = maxPage;
    this.clock = clock;
  }

  @Override
  public void accepted(String user, JsonObject view) {
    String id = view.getString("id");
    owners.accepted(id, user);
    if (users == null) {
      return;
    }
    Generation entry = new Generation(id, user, view.getString("region", "unknown"), view.getString("tier", "unknown"),
        view.getString("status", "queued"), instant(view.getString("created_at")));
    users.recordGeneration(entry).onFailure(failed -> replies.lost("record_generation", id, failed));
  }

  @Override
  public void seen(JsonObject view) {
    String id = view.getString("id");
    String status = view.getString("status");
    if (users != null && id != null && status != null) {
      users.updateStatus(id, status, clock.instant()).onFailure(failed -> replies.lost("update_status", id, failed));
    }
  }

  /** {@code GET /v1/generations}: the caller's own; an admin may ask for another user's with {@code user}. */
  public void list(RoutingContext ctx) {
    if (users == null) {
      JsonReplies.notFound(ctx, "GET /v1/generations (it needs the user database, users.enabled)");
      return;
    }
    Caller caller = AccessRoutes.caller(ctx);
    String user = ctx.request().getParam("user");
    if (user != null && !user.equals(caller.user()) && !caller.admin()) {
      JsonReplies.error(ctx, ApiError.onField(ErrorCode.FORBIDDEN, "user", "only an admin key may list another user's generations"));
      return;
    }
    int limit;
    try {
      String asked = ctx.request().getParam("limit");
      limit = asked == null ? Math.min(DEFAULT_PAGE, maxPage) : Integer.parseInt(asked);
    } catch (NumberFormatException e) {
      limit = -1;
    }
    if (limit < 1 || limit > maxPage) {
      JsonReplies.error(ctx, ApiError.onField(ErrorCode.OUT_OF_RANGE, "limit", "limit must be from 1 to " + maxPage));
      return;
    }
    users.generations(user == null ? caller.user() : user, ctx.request().getParam("cursor"), limit).onComplete(page -> {
      if (page.failed()) {
        replies.failed(ctx, "list_generations", page.cause());
        return;
      }
      JsonArray items = new JsonArray();
      page.result().generations().forEach(g -> items.add(UsersReplies.json(g)));
      JsonObject body = new JsonObject().put("generations", items).put("next_cursor", page.result().nextCursor());
      JsonReplies.json(ctx, 200, body);
    });
  }

  private Instant instant(String text) {
    try {
      return text == null ? clock.instant() : Instant.parse(text);
    } catch (DateTimeParseException e) {
      return clock.instant();
    }
  }
}
