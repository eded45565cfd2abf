package dev.genmesh.edge.impl;

import dev.genmesh.edge.regions.impl.RegionClient;
import dev.genmesh.edge.regions.impl.RegionDirectory;
import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/generations/{id}/events}: a WebSocket relayed frame by frame from the
 * region's event stream. The region socket is opened before the client is upgraded, so an
 * unknown id gets a plain 404 JSON answer. The region replays history first, so a late or
 * resuming client ({@code ?after=N} or {@code Last-Event-ID}) misses nothing. Each client holds
 * at most {@link StreamLimits#maxPerClient()} streams at once (429 beyond); the edge pings every
 * stream so that a quiet one (a relax request waiting in its queue) outlives the idle timeout.
 */
public final class ProgressRelay {
  private static final Logger LOG = LoggerFactory.getLogger(ProgressRelay.class);
  /** Close code for "stream broke, resume with after=<last id>" (1000 means the stream is done). */
  static final short RESUMABLE = 1011;
  /** How often a broken region stream is tried again while it is resumed. */
  static final long RESUME_RETRY_MS = 500;

  private final Vertx vertx;
  private final RegionDirectory regions;
  private final long retryAfterSeconds;
  private final StreamLimits limits;
  private final Function<RoutingContext, String> clientOf;
  private final ReadDeadlines deadlines;
  private final long pingIntervalMs;
  private final long resumeForMs;

  /**
   * @param clientOf who holds a stream, for {@code limits}
   * @param pingIntervalMs how often an open stream is pinged
   * @param resumeForMs how long the edge tries to resume a broken region stream itself (0: never,
   *     the client is told to resume)
   */
  public ProgressRelay(Vertx vertx, RegionDirectory regions, long retryAfterSeconds, StreamLimits limits,
      Function<RoutingContext, String> clientOf, ReadDeadlines deadlines, long pingIntervalMs, long resumeForMs) {
    this.resumeForMs = resumeForMs;
    this.vertx = vertx;
    this.regions = regions;
    this.retryAfterSeconds = retryAfterSeconds;
    this.limits = limits;
    this.clientOf = clientOf;
    this.deadlines = deadlines;
    this.pingIntervalMs = pingIntervalMs;
  }

  public void handle(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    RegionClient region = regions.forRequestId(id).orElse(null);
    if (region == null) {
      JsonReplies.notFound(ctx, "generation " + id);
      return;
    }
    if (!ctx.request().canUpgradeToWebSocket()) {
      JsonReplies.error(ctx, ApiError.onField(ErrorCode.INVALID_FIELD, "Upgrade",
          "this is a WebSocket endpoint: connect with ws:// (or wss://)"));
      return;
    }
    long after;
    try {
      after = Math.max(eventId(ctx.request().getParam("after")), eventId(ctx.request().getHeader("Last-Event-ID")));
    } catch (NumberFormatException e) {
      JsonReplies.error(ctx, ApiError.onField(ErrorCode.INVALID_FIELD, "after", "after must be an event id (a whole number >= 0)"));
      return;
    }
    String client = clientOf.apply(ctx);
    if (!limits.tryAcquire(client)) {
      LOG.info("request {}: refused an event stream, {} holds {} already", id, client, limits.maxPerClient());
      JsonReplies.error(ctx, ApiError.of(ErrorCode.TOO_MANY_STREAMS, "this client has " + limits.maxPerClient()
          + " event streams open already, the most one client may hold; close one first"));
      return;
    }
    AtomicBoolean held = new AtomicBoolean(true);
    Runnable release = () -> {
      if (held.getAndSet(false)) {
        limits.release(client);
      }
    };
    ctx.request().pause();
    region.events(id, after).onComplete(connected -> {
      if (connected.failed()) {
        release.run();
        refuse(ctx, id, region, connected.cause());
        return;
      }
      WebSocket upstream = connected.result();
      ctx.request().toWebSocket().onComplete(upgraded -> {
        if (upgraded.failed()) {
          release.run();
          LOG.info("request {}: client left before its event stream opened ({})", id, upgraded.cause().getMessage());
          upstream.close();
        } else {
          ServerWebSocket socket = upgraded.result();
          deadlines.upgraded(ctx.request().connection());
          long pings = vertx.setPeriodic(pingIntervalMs, tick -> socket.writePing(Buffer.buffer()));
          Runnable ended = () -> {
            vertx.cancelTimer(pings);
            release.run();
          };
          socket.closeHandler(closed -> ended.run());
          if (socket.isClosed()) {
            ended.run();
          }
          relayOrReopen(id, region, after, upstream, socket, ended);
        }
      });
    });
  }

  private void refuse(RoutingContext ctx, String id, RegionClient region, Throwable cause) {
    if (cause instanceof UpgradeRejectedException rejected && rejected.getStatus() == 404) {
      JsonReplies.notFound(ctx, "generation " + id);
    } else if (cause instanceof UpgradeRejectedException rejected && rejected.getStatus() < 500) {
      LOG.info("request {}: region {} refused its event stream with {}", id, region.name(), rejected.getStatus());
      JsonReplies.send(ctx, rejected.getStatus(), rejected.getBody() == null ? Buffer.buffer() : rejected.getBody());
    } else {
      LOG.warn("request {}: cannot open its event stream at region {} ({})", id, region.name(), cause.toString());
      JsonReplies.unavailable(ctx, ErrorCode.REGION_UNAVAILABLE, "region " + region.name() + " cannot stream events now", retryAfterSeconds);
    }
  }

  /**
   * The region may close a finished request's stream while the client is still being upgraded
   * (nothing relayed yet): then the stream is opened once more from the same point, so the
   * client still gets every event; if that fails too, the client is told to resume.
   */
  private void relayOrReopen(String id, RegionClient region, long after, WebSocket upstream,
      ServerWebSocket client, Runnable ended) {
    Upstream current = new Upstream(id, client, ended, after);
    if (!upstream.isClosed()) {
      current.attach(region.name(), upstream);
      return;
    }
    region.events(id, after).onComplete(again -> {
      if (again.succeeded() && !again.result().isClosed() && !client.isClosed()) {
        current.attach(region.name(), again.result());
      } else {
        if (again.succeeded()) {
          again.result().close();
        }
        LOG.info("request {}: event stream of region {} closed before it was relayed", id, region.name());
        if (!client.isClosed()) {
          client.close(RESUMABLE, "region stream closed before it was relayed; resume with after=" + after);
        }
      }
    });
  }

  /**
   * One client's stream and the region stream it is relayed from now. When that region's stream
   * breaks (not a normal end) and failover is on, the edge opens the stream again after the last
   * event it relayed, at whichever region serves the id then (its adopter once the quorum holds
   * the owner DOWN, which keeps the event numbering), retrying for {@code resumeForMs}: the client
   * sees no gap and nothing invented. Without failover, or past that time, the client is told to resume.
   */
  private final class Upstream {
    private final String id;
    private final ServerWebSocket client;
    private long lastEvent;
    private WebSocket socket;
    private boolean clientClosed;

    Upstream(String id, ServerWebSocket client, Runnable ended, long after) {
      this.id = id;
      this.client = client;
      this.lastEvent = after;
      client.exceptionHandler(e -> LOG.debug("request {}: client event socket failed: {}", id, e.toString()));
      client.closeHandler(closed -> {
        clientClosed = true;
        if (socket != null && !socket.isClosed()) {
          socket.close();
        }
        ended.run();
      });
    }

    void attach(String region, WebSocket upstream) {
      socket = upstream;
      LOG.debug("request {}: relaying events after {} from region {}", id, lastEvent, region);
      upstream.textMessageHandler(text -> {
        lastEvent = Math.max(lastEvent, eventIdOf(text));
        client.writeTextMessage(text);
        if (client.writeQueueFull()) {
          upstream.pause();
          client.drainHandler(drained -> upstream.resume());
        }
      });
      upstream.exceptionHandler(e -> LOG.warn("request {}: event stream from region {} failed: {}", id, region, e.toString()));
      upstream.closeHandler(closed -> {
        short code = passOn(upstream.closeStatusCode());
        LOG.debug("request {}: region {} closed the event stream ({})", id, region, code);
        if (clientClosed || client.isClosed()) {
          return;
        }
        if (code == RESUMABLE && resumeForMs > 0) {
          LOG.info("request {}: event stream from region {} broke after event {}; resuming it", id, region, lastEvent);
          resume(System.nanoTime() + resumeForMs * 1_000_000);
        } else {
          client.close(code, code == RESUMABLE ? "region stream broke; resume with after=<last id>" : upstream.closeReason());
        }
      });
      upstream.resume();
    }

    private void resume(long deadlineNanos) {
      if (clientClosed || client.isClosed()) {
        return;
      }
      RegionClient target = regions.forRequestId(id).orElseThrow();
      target.events(id, lastEvent).onComplete(opened -> {
        if (clientClosed || client.isClosed()) {
          if (opened.succeeded()) {
            opened.result().close();
          }
        } else if (opened.succeeded()) {
          LOG.info("request {}: event stream resumed at region {} after event {}", id, target.name(), lastEvent);
          attach(target.name(), opened.result());
        } else if (System.nanoTime() < deadlineNanos) {
          vertx.setTimer(RESUME_RETRY_MS, t -> resume(deadlineNanos));
        } else {
          LOG.warn("request {}: event stream not resumed within {} ms (last try at region {}: {})", id, resumeForMs,
              target.name(), opened.cause().toString());
          client.close(RESUMABLE, "region stream broke; resume with after=" + lastEvent);
        }
      });
    }
  }

  /** The {@code id} of an event frame; 0 for a frame that carries none. */
  static long eventIdOf(String text) {
    try {
      return new JsonObject(text).getLong("id", 0L);
    } catch (RuntimeException notAnEvent) {
      return 0;
    }
  }

  /** Codes that cannot be sent on the wire (no status, abnormal closure, TLS) become "resumable". */
  private static short passOn(Short code) {
    if (code == null || code == 1005 || code == 1006 || code == 1015) {
      return RESUMABLE;
    }
    return code;
  }

  private static long eventId(String text) {
    if (text == null || text.isBlank()) {
      return 0;
    }
    long id = Long.parseLong(text.trim());
    if (id < 0) {
      throw new NumberFormatException("negative event id");
    }
    return id;
  }
}
