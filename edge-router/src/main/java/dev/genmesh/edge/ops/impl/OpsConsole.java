package dev.genmesh.edge.ops.impl;

import dev.genmesh.edge.impl.JsonReplies;
import dev.genmesh.protocol.ErrorCode;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.function.Consumer;

/**
 * The operator console: its page at {@code /ops} (no key needed to load it; it asks for an admin
 * key and keeps it in the browser's localStorage) and its data under {@code /v1/admin/ops/}, behind
 * the admin key like every admin route: the last snapshot of every region, the last hour of
 * samples, and a live stream of snapshots (Server-Sent Events). edge-router/API.md, "Operator console".
 */
public final class OpsConsole {
  public static final String PAGE_RESOURCE = "/webroot/ops.html";
  /** A comment on a quiet stream, well within the edge's idle timeout. */
  static final long PING_MS = 10_000;

  private final Vertx vertx;
  private final OpsSampler sampler;
  private final Buffer page;

  public OpsConsole(Vertx vertx, OpsSampler sampler, Buffer page) {
    this.vertx = vertx;
    this.sampler = sampler;
    this.page = page;
  }

  /** Reads the console's page: blocking, once at start. */
  public static Buffer loadPage() {
    try (InputStream in = OpsConsole.class.getResourceAsStream(PAGE_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("operator console page missing from the classpath: " + PAGE_RESOURCE);
      }
      return Buffer.buffer(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** After the access routes: {@code /v1/admin/*} is already limited to admin keys. */
  public void mount(Router router) {
    router.get("/ops").handler(ctx -> ctx.response().putHeader("Content-Type", "text/html; charset=utf-8")
        .putHeader("Cache-Control", "no-cache").end(page));
    router.get("/v1/admin/ops/snapshot").handler(this::snapshot);
    router.get("/v1/admin/ops/history").handler(this::history);
    router.get("/v1/admin/ops/stream").handler(this::stream);
  }

  private void snapshot(RoutingContext ctx) {
    JsonObject latest = sampler.latest();
    if (latest == null) {
      JsonReplies.unavailable(ctx, ErrorCode.REGION_UNAVAILABLE, "the first sample of the regions is not in yet",
          Math.max(1, sampler.settings().sampleIntervalMs() / 1000));
      return;
    }
    ctx.response().putHeader("Cache-Control", "no-store");
    JsonReplies.json(ctx, 200, latest);
  }

  private void history(RoutingContext ctx) {
    ctx.response().putHeader("Cache-Control", "no-store");
    JsonReplies.json(ctx, 200, historyBody());
  }

  private JsonObject historyBody() {
    return new JsonObject().put("sample_interval_ms", sampler.settings().sampleIntervalMs())
        .put("history_ms", sampler.settings().historyMs()).put("samples", sampler.history());
  }

  /**
   * {@code text/event-stream}: {@code history} first, then the last {@code snapshot} and one per
   * sample. A client too slow to take a snapshot misses it (the next one says everything again).
   */
  private void stream(RoutingContext ctx) {
    HttpServerResponse response = ctx.response().setChunked(true)
        .putHeader("Content-Type", "text/event-stream; charset=utf-8")
        .putHeader("Cache-Control", "no-store")
        .putHeader("X-Accel-Buffering", "no");
    send(response, "history", historyBody());
    JsonObject latest = sampler.latest();
    if (latest != null) {
      send(response, "snapshot", latest);
    }
    Consumer<JsonObject> listener = snapshot -> {
      if (!response.writeQueueFull()) {
        send(response, "snapshot", snapshot);
      }
    };
    sampler.subscribe(listener);
    long ping = vertx.setPeriodic(PING_MS, tick -> {
      if (!response.writeQueueFull()) {
        response.write(": ping\n\n");
      }
    });
    response.closeHandler(closed -> {
      sampler.unsubscribe(listener);
      vertx.cancelTimer(ping);
    });
  }

  private static void send(HttpServerResponse response, String event, JsonObject data) {
    response.write("event: " + event + "\ndata: " + data.encode() + "\n\n");
  }
}
