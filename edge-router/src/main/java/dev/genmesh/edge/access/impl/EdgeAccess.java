package dev.genmesh.edge.access.impl;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.UsersConfig;
import dev.genmesh.edge.impl.ApiKeys;
import dev.genmesh.edge.impl.JsonReplies;
import dev.genmesh.edge.regions.impl.RegionDirectory;
import dev.genmesh.users.UserStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Clock;

/**
 * Who may do what at the edge (docs/security.md), put together: callers from API keys, owners of
 * requests, share links, the generation index and the admin API; {@link #mount} adds their routes
 * and guards in front of the public ones.
 */
public final class EdgeAccess {
  /** Admin bodies are small JSON objects. */
  private static final int ADMIN_BODY_LIMIT = 16 * 1024;

  private final AccessRoutes routes;
  private final ShareLinks shares;
  private final GenerationListing listing;
  private final AdminRoutes admin;
  private final RateLimiter limiter;
  private final UsageRoutes usage;
  private final GpuQuotas quotas;

  /** @param users the user database, or null without one: config keys only, no listing, no admin API */
  public EdgeAccess(Vertx vertx, GenmeshConfig config, UserStore users, RegionDirectory regions, MeterRegistry meters,
      Clock clock, long retryAfterSeconds) {
    UsersConfig settings = config.users();
    Callers callers = new Callers(new ApiKeys(config.edge()), users, settings.cacheMs(), meters, System::nanoTime);
    Owners owners = new Owners(users);
    UsersReplies replies = new UsersReplies(meters, retryAfterSeconds);
    this.routes = new AccessRoutes(callers, owners, regions, retryAfterSeconds);
    this.shares = new ShareLinks(settings.shareKey(), settings.shareMaxTtlMs(), clock);
    this.listing = new GenerationListing(users, owners, replies, settings.listMaxPage(), clock);
    this.admin = users == null ? null : new AdminRoutes(users, callers, replies);
    this.limiter = new RateLimiter(vertx, settings.rateLimits(), meters);
    this.quotas = new GpuQuotas(users, settings.gpuQuota(), regions, meters, clock);
    this.usage = new UsageRoutes(users, settings.rateLimits(), replies, clock, quotas);
  }

  public RateLimiter limiter() {
    return limiter;
  }

  /** GPU-seconds per month for fast and turbo, per user. */
  public GpuQuotas quotas() {
    return quotas;
  }

  public GenerationIndex index() {
    return listing;
  }

  /**
   * Identifies the caller of every generation, image and admin call; lets only the owner (or an
   * admin) reach a request by id; adds the listing, share links and admin routes. {@code images}
   * serves a shared image once its link checks out. Call before the public routes are added.
   */
  public void mount(Router router, Handler<RoutingContext> images) {
    Handler<RoutingContext> identify = routes::identify;
    router.route("/v1/generations").handler(identify);
    router.route("/v1/generations/*").handler(identify);
    router.route("/v1/images/*").handler(identify);
    router.route("/v1/admin/*").handler(identify).handler(routes::adminOnly);

    router.route("/v1/generations/:id").handler(routes::ownerOnly);
    router.get("/v1/generations/:id/events").handler(routes::ownerOnly);
    router.route("/v1/images/:id/:file").handler(routes::ownerOnly).handler(AccessRoutes::privateCache);
    router.post("/v1/images/:id/:file/share").handler(routes::ownerOnly);
    // A route of its own: a body handler must come first on its route.
    router.post("/v1/images/:id/:file/share").handler(BodyHandler.create(false).setBodyLimit(ADMIN_BODY_LIMIT))
        .handler(shares::share);
    router.get("/v1/shared/:id/:file").handler(shares::verify).handler(images);
    router.head("/v1/shared/:id/:file").handler(shares::verify).handler(images);
    router.get("/v1/generations").handler(listing::list);
    router.get("/v1/usage").handler(identify).handler(usage::show);

    if (admin == null) {
      router.route("/v1/admin/*").handler(ctx -> JsonReplies.notFound(ctx,
          ctx.request().method() + " " + ctx.normalizedPath() + " (the admin API needs the user database, users.enabled)"));
      return;
    }
    router.route("/v1/admin/*").handler(BodyHandler.create(false).setBodyLimit(ADMIN_BODY_LIMIT));
    router.get("/v1/admin/users").handler(admin::listUsers);
    router.post("/v1/admin/users").handler(admin::addUser);
    router.post("/v1/admin/users/:user/disable").handler(admin::disableUser);
    router.get("/v1/admin/keys").handler(admin::listKeys);
    router.post("/v1/admin/keys").handler(admin::issueKey);
    router.delete("/v1/admin/keys/:key").handler(admin::revokeKey);
  }
}
