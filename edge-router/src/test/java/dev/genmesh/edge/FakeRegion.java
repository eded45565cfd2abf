package dev.genmesh.edge;

import dev.genmesh.protocol.RequestIds;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToIntFunction;

/**
 * A real HTTP server speaking the few regional API routes the edge uses
 * (region-node/API.md): submit, view, events (WebSocket), images, readiness. The real region
 * node lives in another module; the launcher's end-to-end test runs the edge against it.
 */
final class FakeRegion {
  static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 1, 2, 3, 4};
  static final String IMAGE_CACHE = "public, max-age=31536000, immutable";

  final String name;
  final String code;
  final List<JsonObject> submits = new CopyOnWriteArrayList<>();
  final AtomicInteger requests = new AtomicInteger();
  final List<Long> streamAfters = new CopyOnWriteArrayList<>();
  final AtomicInteger streamsClosedByEdge = new AtomicInteger();
  final Map<String, JsonObject> views = new ConcurrentHashMap<>();
  final Map<String, List<JsonObject>> events = new ConcurrentHashMap<>();
  /** Ids whose stream stays open after the history (a request still running). */
  final List<String> running = new CopyOnWriteArrayList<>();
  /** 202 accepts; 0 never answers (a hung region); anything else is answered as an error. */
  volatile int submitStatus = 202;
  /** The status of a submit's answer by its body; {@link #submitStatus} unless a test says otherwise. */
  volatile ToIntFunction<JsonObject> submitStatusOf = body -> submitStatus;
  /** Submits answered 202: requests the region holds. */
  final AtomicInteger created = new AtomicInteger();
  /** The {@code code} of a submit's error answer; null answers plain text. (A 200 answers JSON without a view.) */
  volatile String submitErrorCode = "storage_unavailable";
  /** The Retry-After of a submit's error answer. */
  volatile String submitRetryAfter = "7";
  volatile boolean ready = true;
  /** A region gone for failover purposes: its {@code /failover/status} and event streams do not answer. */
  volatile boolean dead;
  /** What this region, as a failover observer, thinks of other regions: region → suspect since (absent: ok since start). */
  final Map<String, Instant> suspects = new ConcurrentHashMap<>();
  private final Instant started = Instant.now();
  private final List<ServerWebSocket> openStreams = new CopyOnWriteArrayList<>();
  /**
   * A submit completes at once (as if a worker had run it), with a real PNG of the asked size per
   * image: what a caller that waits for the result (the OpenAI shape) needs.
   */
  volatile boolean completeOnSubmit;
  /** The images of requests completed on submit: id → PNG per index. */
  final Map<String, List<byte[]>> pngs = new ConcurrentHashMap<>();
  /**
   * Ids a peer adopted while this region was down: id → {adopter's name, the base URL its 307 names}.
   * Answered like the real returned region (region-node FailoverRoutes): 307, Location, {code: adopted, region, location}.
   */
  final Map<String, List<String>> adoptedBy = new ConcurrentHashMap<>();
  /** The body of {@code GET /regional/v1/models}; null answers 404 (no registry). */
  volatile JsonObject models;

  private final Vertx vertx;
  private HttpServer server;

  FakeRegion(Vertx vertx, String name, String code) {
    this.vertx = vertx;
    this.name = name;
    this.code = code;
  }

  Future<FakeRegion> start() {
    Router router = Router.router(vertx);
    router.route().handler(ctx -> {
      requests.incrementAndGet();
      ctx.next();
    });
    for (String path : List.of("/regional/v1/generations/:id", "/regional/v1/generations/:id/events",
        "/regional/v1/images/:id/*")) {
      router.route(path).handler(this::adoptedElsewhere);
    }
    router.post("/regional/v1/generations").handler(BodyHandler.create(false)).handler(this::submit);
    router.get("/regional/v1/generations/:id/events").handler(this::events);
    router.get("/regional/v1/generations/:id").handler(this::view);
    router.delete("/regional/v1/generations/:id").handler(this::cancel);
    router.get("/regional/v1/images/:id/:file").handler(this::image);
    router.head("/regional/v1/images/:id/:file").handler(this::image);
    router.get("/regional/v1/images/:id/:file/link").handler(this::link);
    // Plays the object store a presigned link points at.
    router.get("/store/:id/:file").handler(ctx -> ctx.response().putHeader("Content-Type", "image/png")
        .end(Buffer.buffer(PNG)));
    router.get("/regional/v1/models").handler(ctx -> {
      JsonObject listing = models;
      if (listing == null) {
        ctx.response().setStatusCode(404).end();
      } else {
        ctx.response().putHeader("Content-Type", "application/json").end(listing.encode());
      }
    });
    router.get("/health/ready").handler(ctx -> ctx.response().setStatusCode(ready ? 200 : 503).end());
    router.get("/failover/status").handler(ctx -> {
      if (dead) {
        ctx.response().setStatusCode(503).end();
      } else {
        ctx.response().putHeader("Content-Type", "application/json").end(new JsonObject().put("region", name)
            .put("ready", true).put("queued", 0).put("progress", "").encode());
      }
    });
    router.get("/failover/opinions").handler(ctx -> {
      JsonObject opinions = new JsonObject();
      for (String region : List.of("us-west", "us-east", "eu-west")) {
        if (!region.equals(name)) {
          Instant suspect = suspects.get(region);
          Instant since = suspect == null ? started : suspect;
          opinions.put(region, new JsonObject().put("state", suspect == null ? "ok" : "suspect")
              .put("for_ms", java.time.Duration.between(since, Instant.now()).toMillis()).put("reason", "fake"));
        }
      }
      ctx.response().putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("observer", name).put("opinions", opinions).encode());
    });
    return vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").map(s -> {
      server = s;
      return this;
    });
  }

  Future<Void> stop() {
    return server.close();
  }

  String url() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  /** Breaks every open event stream, as a region that fails mid-stream does (1011: resumable). */
  void breakStreams() {
    openStreams.forEach(ws -> ws.close((short) 1011, "region failed"));
  }

  /** Holds a request another region issued, with these events (an adopter keeps the numbering). */
  void adopt(String id, List<JsonObject> history) {
    views.put(id, new JsonObject().put("id", id).put("region", name).put("user", "anonymous").put("status", "completed")
        .put("spec", new JsonObject().put("batch_size", 1)));
    List<JsonObject> stamped = new CopyOnWriteArrayList<>();
    for (int i = 0; i < history.size(); i++) {
      stamped.add(history.get(i).copy().put("id", i + 1).put("request_id", id).put("time", Instant.now().toString()));
    }
    events.put(id, stamped);
  }

  /** Records a request as if a worker had produced these events for it. */
  String addRequest(List<JsonObject> history) {
    String id = RequestIds.next(code, System.currentTimeMillis());
    adopt(id, history);
    return id;
  }

  private void submit(RoutingContext ctx) {
    JsonObject body = ctx.body().asJsonObject();
    submits.add(body);
    int status = submitStatusOf.applyAsInt(body);
    if (status == 0) {
      return;
    }
    if (status != 202 && submitErrorCode == null) {
      ctx.response().setStatusCode(status).putHeader("Content-Type", "text/plain").end("something broke");
      return;
    }
    if (status == 200) {
      ctx.response().setStatusCode(200).putHeader("Content-Type", "application/json").end("{\"no\": \"view\"}");
      return;
    }
    if (status != 202) {
      ctx.response().setStatusCode(status).putHeader("Retry-After", submitRetryAfter)
          .putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("code", submitErrorCode).put("message", "request log is down").encode());
      return;
    }
    created.incrementAndGet();
    String id = RequestIds.next(code, System.currentTimeMillis());
    JsonObject spec = body.copy();
    spec.remove("idempotency_key");
    spec.remove("request_hash");
    JsonArray images = new JsonArray();
    for (int i = 0; i < spec.getInteger("batch_size"); i++) {
      images.add("/v1/images/" + id + "/" + i + ".png");
    }
    String now = Instant.now().toString();
    JsonObject view = new JsonObject()
        .put("id", id).put("region", name).put("user", body.getString("user")).put("status", "queued")
        .put("tier", spec.getString("tier"))
        .put("model", spec.getString("model")).put("spec", spec).put("attempt", 0).putNull("worker")
        .put("created_at", now).put("queued_at", now).putNull("started_at").putNull("completed_at")
        .put("timings", new JsonObject()).putNull("error").put("images", images).put("queue_position", 1);
    if (completeOnSubmit) {
      List<byte[]> made = new CopyOnWriteArrayList<>();
      for (int i = 0; i < images.size(); i++) {
        made.add(png(spec.getInteger("width"), spec.getInteger("height")));
      }
      pngs.put(id, made);
      view.put("status", "completed").put("completed_at", now).put("queue_position", (Integer) null);
    }
    views.put(id, view);
    ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json").end(view.encode());
  }

  private void adoptedElsewhere(RoutingContext ctx) {
    List<String> adopter = adoptedBy.get(ctx.pathParam("id"));
    if (adopter == null) {
      ctx.next();
      return;
    }
    String location = adopter.get(1) + ctx.request().uri();
    ctx.response().setStatusCode(307).putHeader("Location", location).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("code", "adopted").put("message", "adopted by " + adopter.get(0))
            .put("region", adopter.get(0)).put("location", location).encode());
  }

  private void view(RoutingContext ctx) {
    JsonObject view = views.get(ctx.pathParam("id"));
    if (view == null) {
      notFound(ctx);
    } else {
      ctx.response().putHeader("Content-Type", "application/json").end(view.encode());
    }
  }

  /** Like the real region: a live request becomes cancelled, a terminal one answers 409. */
  private void cancel(RoutingContext ctx) {
    JsonObject view = views.get(ctx.pathParam("id"));
    if (view == null) {
      notFound(ctx);
    } else if (view.getString("status").equals("cancelled")) {
      ctx.response().setStatusCode(409).putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("code", "already_terminal").put("message", "already cancelled").encode());
    } else {
      view.put("status", "cancelled");
      ctx.response().putHeader("Content-Type", "application/json").end(view.encode());
    }
  }

  private void events(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    List<JsonObject> history = events.get(id);
    if (dead) {
      ctx.response().setStatusCode(503).end();
      return;
    }
    if (history == null) {
      notFound(ctx);
      return;
    }
    long after = Long.parseLong(ctx.request().getParam("after", "0"));
    streamAfters.add(after);
    boolean keepOpen = running.contains(id);
    ctx.request().toWebSocket().onSuccess(ws -> {
      openStreams.add(ws);
      ws.closeHandler(v -> {
        openStreams.remove(ws);
        streamsClosedByEdge.incrementAndGet();
      });
      List<JsonObject> due = history.stream().filter(e -> e.getLong("id") > after).toList();
      // The first half is history, sent at once; the rest arrives "live", a frame per timer tick.
      int split = due.size() / 2;
      due.subList(0, split).forEach(e -> ws.writeTextMessage(e.encode()));
      sendLive(ws, due.subList(split, due.size()), 0, keepOpen);
    });
  }

  private void sendLive(ServerWebSocket ws, List<JsonObject> rest, int index, boolean keepOpen) {
    if (index == rest.size()) {
      if (!keepOpen) {
        ws.close((short) 1000, "done");
      }
      return;
    }
    vertx.setTimer(5, t -> {
      if (!ws.isClosed()) {
        ws.writeTextMessage(rest.get(index).encode());
        sendLive(ws, rest, index + 1, keepOpen);
      }
    });
  }

  private void image(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    String file = ctx.pathParam("file");
    List<byte[]> made = pngs.get(id);
    if (made != null && file.matches("\\d{1,3}\\.png") && Integer.parseInt(file.substring(0, file.indexOf('.'))) < made.size()) {
      ctx.response().putHeader("Content-Type", "image/png").putHeader("Cache-Control", IMAGE_CACHE)
          .putHeader("ETag", "\"" + id + "-" + file + "\"").end(Buffer.buffer(made.get(Integer.parseInt(file.substring(0, file.indexOf('.'))))));
      return;
    }
    if (!views.containsKey(id) || !file.equals("0.png")) {
      notFound(ctx);
      return;
    }
    String etag = "\"" + id + "-0\"";
    ctx.response().putHeader("Cache-Control", IMAGE_CACHE).putHeader("ETag", etag).putHeader("Accept-Ranges", "bytes");
    String range = ctx.request().getHeader("Range");
    if (etag.equals(ctx.request().getHeader("If-None-Match"))) {
      ctx.response().setStatusCode(304).end();
    } else if (range != null && range.matches("bytes=\\d+-\\d+")) {
      int first = Integer.parseInt(range.substring(6, range.indexOf('-')));
      int last = Math.min(PNG.length - 1, Integer.parseInt(range.substring(range.indexOf('-') + 1)));
      if (first >= PNG.length) {
        ctx.response().setStatusCode(416).putHeader("Content-Range", "bytes */" + PNG.length)
            .putHeader("Content-Type", "application/json")
            .end(new JsonObject().put("code", "range_not_satisfiable").put("message", "no such bytes").encode());
        return;
      }
      ctx.response().setStatusCode(206).putHeader("Content-Type", "image/png")
          .putHeader("Content-Range", "bytes " + first + "-" + last + "/" + PNG.length)
          .end(Buffer.buffer(java.util.Arrays.copyOfRange(PNG, first, last + 1)));
    } else if (ctx.request().method() == io.vertx.core.http.HttpMethod.HEAD) {
      ctx.response().putHeader("Content-Type", "image/png").putHeader("Content-Length", Integer.toString(PNG.length)).end();
    } else {
      ctx.response().putHeader("Content-Type", "image/png").end(Buffer.buffer(PNG));
    }
  }

  private void link(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    if (!views.containsKey(id) || !ctx.pathParam("file").equals("0.png")) {
      notFound(ctx);
      return;
    }
    ctx.response().putHeader("Content-Type", "application/json").end(new JsonObject()
        .put("url", url() + "/store/" + id + "/0.png?X-Amz-Signature=fake")
        .put("etag", "\"" + id + "-0\"").put("size", PNG.length).put("content_type", "image/png").encode());
  }

  /** A real PNG of this size: a gradient, so that it is not all one colour. */
  static byte[] png(int width, int height) {
    java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(width, height, java.awt.image.BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        image.setRGB(x, y, (x * 255 / width) << 16 | (y * 255 / height) << 8);
      }
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try {
      javax.imageio.ImageIO.write(image, "png", out);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static void notFound(RoutingContext ctx) {
    ctx.response().setStatusCode(404).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("code", "not_found").put("message", "no such request").encode());
  }
}
