package dev.genmesh.client.impl;

import dev.genmesh.client.ClientOptions;
import dev.genmesh.client.EventStream;
import dev.genmesh.client.GenerationEvent;
import dev.genmesh.client.GenmeshException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.util.function.Consumer;

/**
 * Follows {@code /v1/generations/{id}/events} over a WebSocket and resumes it with {@code ?after=N}
 * after a break, until the terminal event. Frames whose id is not past the last delivered one are
 * dropped, so the handler sees each event once even if an edge replays.
 */
public final class EventFollower implements EventStream {
  private static final int NORMAL_CLOSE = 1000;

  private final EdgeCalls calls;
  private final WebSocketClient sockets;
  private final ClientOptions options;
  private final String requestId;
  private final Consumer<GenerationEvent> handler;
  private final Promise<GenerationEvent> done = Promise.promise();
  private volatile long lastId;
  private volatile int reconnects;
  private volatile int duplicates;
  private volatile WebSocket current;
  private int failuresInRow;

  public EventFollower(EdgeCalls calls, WebSocketClient sockets, ClientOptions options, String requestId, long after,
      Consumer<GenerationEvent> handler) {
    this.calls = calls;
    this.sockets = sockets;
    this.options = options;
    this.requestId = requestId;
    this.lastId = after;
    this.handler = handler;
  }

  public EventFollower start() {
    connect();
    return this;
  }

  private void connect() {
    if (done.future().isComplete()) {
      return;
    }
    URI base = URI.create(calls.url("/v1/generations/" + requestId + "/events" + (lastId > 0 ? "?after=" + lastId : "")));
    boolean tls = "https".equals(base.getScheme());
    WebSocketConnectOptions connect = new WebSocketConnectOptions().setHost(base.getHost())
        .setPort(base.getPort() > 0 ? base.getPort() : tls ? 443 : 80).setSsl(tls).setURI(base.getRawPath()
            + (base.getRawQuery() == null ? "" : "?" + base.getRawQuery()))
        .setTimeout(options.requestTimeout().toMillis());
    if (options.apiKey() != null) {
      connect.addHeader("Authorization", "Bearer " + options.apiKey());
    }
    sockets.connect(connect).onComplete(ar -> {
      if (ar.succeeded()) {
        attach(ar.result());
      } else {
        broken(refusal(ar.cause()));
      }
    });
  }

  private void attach(WebSocket socket) {
    current = socket;
    if (done.future().isComplete()) {
      socket.close();
      return;
    }
    socket.textMessageHandler(text -> frame(socket, text));
    socket.exceptionHandler(e -> { }); // the close handler follows and decides
    socket.closeHandler(v -> closed(socket));
  }

  private void frame(WebSocket socket, String text) {
    GenerationEvent event;
    try {
      event = GenerationEvent.parse(new JsonObject(text));
    } catch (RuntimeException e) {
      done.tryFail(new GenmeshException(0, "bad_frame", "an event frame this client cannot read: " + text, null, null, e));
      socket.close();
      return;
    }
    if (event.id() <= lastId) {
      duplicates++;
      return;
    }
    lastId = event.id();
    failuresInRow = 0;
    try {
      handler.accept(event);
    } finally {
      if (event.isTerminal()) {
        done.tryComplete(event);
        socket.close();
      }
    }
  }

  private void closed(WebSocket socket) {
    current = null;
    if (done.future().isComplete()) {
      return;
    }
    Short status = socket.closeStatusCode();
    if (status != null && status == NORMAL_CLOSE) {
      done.tryComplete(null); // complete, and its end was before `after`
      return;
    }
    broken(GenmeshException.unreachable("event stream of " + requestId,
        new IllegalStateException("closed" + (status == null ? "" : " with " + status) + " before the last event")));
  }

  private void broken(GenmeshException failure) {
    if (done.future().isComplete()) {
      return;
    }
    failuresInRow++;
    if (!failure.isRetryable() || failuresInRow > options.maxReconnects()) {
      done.tryFail(failure);
      return;
    }
    long delay = failure.retryAfterSeconds().isPresent() ? calls.policy().delayMs(failuresInRow, failure)
        : calls.policy().backoffMs(failuresInRow);
    calls.vertx().setTimer(Math.max(1, delay), t -> {
      reconnects++;
      connect();
    });
  }

  private GenmeshException refusal(Throwable cause) {
    if (cause instanceof UpgradeRejectedException rejected) {
      return Answers.error(rejected.getStatus(), rejected.getHeaders(), rejected.getBody());
    }
    return GenmeshException.unreachable("event stream of " + requestId, cause);
  }

  @Override
  public Future<GenerationEvent> done() {
    return done.future();
  }

  @Override
  public long lastEventId() {
    return lastId;
  }

  @Override
  public int reconnects() {
    return reconnects;
  }

  @Override
  public int duplicatesDropped() {
    return duplicates;
  }

  @Override
  public void close() {
    done.tryFail(new GenmeshException(0, "closed", "the caller stopped following " + requestId, null, null, null));
    WebSocket socket = current;
    if (socket != null) {
      socket.close();
    }
  }
}
