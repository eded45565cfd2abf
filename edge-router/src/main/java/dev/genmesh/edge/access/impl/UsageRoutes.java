package dev.genmesh.edge.access.impl;

import dev.genmesh.config.UsersConfig.RateLimits;
import dev.genmesh.edge.impl.JsonReplies;
import dev.genmesh.protocol.Tier;
import dev.genmesh.users.UserStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Map;

/**
 * {@code GET /v1/usage}: what the caller may do and has done this month (UTC): its tiers, the
 * rate limits of each, and its accepted generations per tier (from the generation index).
 */
final class UsageRoutes {
  private final UserStore users;
  private final RateLimits limits;
  private final UsersReplies replies;
  private final Clock clock;
  private final GpuQuotas quotas;

  /** @param users null without a user database: the month's counts are absent */
  UsageRoutes(UserStore users, RateLimits limits, UsersReplies replies, Clock clock, GpuQuotas quotas) {
    this.quotas = quotas;
    this.users = users;
    this.limits = limits;
    this.replies = replies;
    this.clock = clock;
  }

  void show(RoutingContext ctx) {
    Caller caller = AccessRoutes.caller(ctx);
    YearMonth month = YearMonth.from(clock.instant().atOffset(ZoneOffset.UTC));
    JsonObject rates = new JsonObject();
    JsonArray tiers = new JsonArray();
    Arrays.stream(Tier.values()).map(Tier::wireName).filter(caller::mayUse).forEach(tier -> {
      tiers.add(tier);
      if (limits.enabled() && limits.perSecond().containsKey(tier)) {
        rates.put(tier, new JsonObject().put("per_second", limits.perSecond().get(tier)).put("burst", limits.burst().get(tier)));
      }
    });
    JsonObject body = new JsonObject().put("user", caller.user()).put("admin", caller.admin()).put("tiers", tiers)
        .put("rate_limits", rates).put("month", month.toString());
    if (users == null) {
      JsonReplies.json(ctx, 200, body);
      return;
    }
    Instant since = month.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
    Future<GpuQuotas.Admission> gpu = quotas.current(caller.user());
    users.generationCounts(caller.user(), since).compose(counts -> gpu.map(g -> {
      body.put("generations", new JsonObject(Map.copyOf(counts)));
      if (g.metered()) {
        body.put("gpu_seconds", new JsonObject().put("tiers", new JsonArray().add("fast").add("turbo"))
            .put("used", g.usedMs() / 1000.0).put("quota", g.quotaSeconds()).put("remaining", g.remainingSeconds())
            .put("resets_at", g.resetsAt().toString()).put("relax_deprioritised", g.usedMs()
                >= quotas.relaxHeavyFraction() * g.quotaSeconds() * 1000));
      }
      return body;
    })).onComplete(done -> {
      if (done.failed()) {
        replies.failed(ctx, "usage", done.cause());
        return;
      }
      JsonReplies.json(ctx, 200, done.result());
    });
  }
}
