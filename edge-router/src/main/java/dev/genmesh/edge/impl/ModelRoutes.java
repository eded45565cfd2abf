package dev.genmesh.edge.impl;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** {@code GET /v1/models}, and a fresh model catalog for a submit that pins a version ({@code model@version}). */
public final class ModelRoutes {
  private final ModelCatalog catalog;

  public ModelRoutes(ModelCatalog catalog) {
    this.catalog = catalog;
  }

  public void list(RoutingContext ctx) {
    catalog.listing().onComplete(listing -> JsonReplies.json(ctx, 200, listing.result()));
  }

  /** Before validation: a submit naming {@code model@version} is checked against registries at most this stale. */
  public void beforeSubmit(RoutingContext ctx) {
    Buffer raw = ctx.body().buffer();
    JsonObject body = raw == null || raw.toString().indexOf('@') < 0 ? null : GenerationRoutes.parse(raw);
    Object model = body == null ? null : body.getValue("model");
    if (model instanceof String name && name.indexOf('@') >= 0) {
      catalog.refreshIfStale().onComplete(done -> ctx.next());
    } else {
      ctx.next();
    }
  }
}
