package dev.genmesh.region.api.impl;

import dev.genmesh.region.workers.KnownWorker;
import dev.genmesh.region.workers.impl.WorkerRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.util.Comparator;

/** {@code GET /regional/v1/workers}: the workers the node knows and how it judges them (region-node/API.md). */
public final class WorkerRoutes {
  private final WorkerRegistry workers;

  public WorkerRoutes(WorkerRegistry workers) {
    this.workers = workers;
  }

  public void mount(Router router) {
    router.get("/regional/v1/workers").handler(ctx -> {
      JsonArray list = new JsonArray();
      workers.workers().stream().sorted(Comparator.comparing(KnownWorker::workerId))
          .forEach(worker -> list.add(worker.toJson()));
      ctx.response().putHeader("Cache-Control", "no-store");
      JsonReplies.json(ctx, 200, new JsonObject().put("workers", list));
    });
  }
}
