package dev.genmesh.launcher.backup;

import static dev.genmesh.testkit.Waits.await;

import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.RequestIds;
import dev.genmesh.protocol.Tier;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.impl.Migrations;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes requests into a region's database with the request log's own code (its migrations and
 * {@link RequestLog#submit}, group commit included): each returned id is committed.
 */
final class RequestLogWriter implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final Pool pool;
  private final WorkerExecutor io;
  private final RequestLog log;
  private int submitted;

  RequestLogWriter(int port, String database) {
    pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(4))
        .connectingTo(new PgConnectOptions().setHost("127.0.0.1").setPort(port).setDatabase(database).setUser("postgres"))
        .using(vertx).build();
    io = vertx.createSharedWorkerExecutor("drill-migrations", 1);
    await(new Migrations(io, pool).apply());
    log = new RequestLog(pool);
  }

  /** Submits {@code count} requests one after the other; each is committed when its id is returned. */
  List<String> submit(int count) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String id = RequestIds.next("drl", System.currentTimeMillis());
      GenerationSpec spec = new GenerationSpec("a restore drill " + submitted++, "", "genmesh-tiny", Tier.FAST, 512, 512,
          4, submitted, 7.5, 1);
      await(log.submit(id, spec, null, "drill", new JsonObject().put("position", i)));
      ids.add(id);
    }
    return ids;
  }

  @Override
  public void close() {
    await(pool.close());
    io.close();
    await(vertx.close());
  }
}
