package dev.genmesh.launcher.generate;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on loopback in front of the edge that a test can break: {@link #cutAll()} resets
 * every connection through it (a lost network under a WebSocket), {@link #dropNextPostAnswer()}
 * lets the next POST reach the edge and closes its connection before the answer comes back (a
 * submit the edge committed whose 202 the client never saw), {@link #delayDeleteAnswers} holds
 * back what the edge answers on a connection that carried a DELETE (a cancel's answer still on
 * its way).
 */
final class CutProxy {
  private final Vertx vertx;
  private final NetServer server;
  private final Set<NetSocket> open = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean dropPostAnswer = new AtomicBoolean();
  private volatile long deleteAnswerDelayMs;
  final AtomicInteger connections = new AtomicInteger();
  final AtomicInteger answersDropped = new AtomicInteger();

  CutProxy(Vertx vertx, int targetPort) {
    this.vertx = vertx;
    var client = vertx.createNetClient();
    this.server = vertx.createNetServer().connectHandler(inbound -> {
      connections.incrementAndGet();
      inbound.pause();
      open.add(inbound);
      client.connect(targetPort, "127.0.0.1").onComplete(ar -> {
        if (ar.failed()) {
          inbound.close();
          return;
        }
        NetSocket outbound = ar.result();
        open.add(outbound);
        AtomicBoolean dropAnswer = new AtomicBoolean();
        AtomicBoolean first = new AtomicBoolean(true);
        AtomicBoolean carriedDelete = new AtomicBoolean();
        inbound.handler(data -> {
          if (first.getAndSet(false) && data.toString().startsWith("POST ") && dropPostAnswer.getAndSet(false)) {
            dropAnswer.set(true);
          }
          if (data.toString().startsWith("DELETE ")) {
            carriedDelete.set(true);
          }
          outbound.write(data);
        });
        outbound.handler(data -> {
          if (dropAnswer.get()) {
            answersDropped.incrementAndGet();
            outbound.close();
            inbound.close();
            return;
          }
          long delay = deleteAnswerDelayMs;
          if (carriedDelete.get() && delay > 0) {
            vertx.setTimer(delay, t -> inbound.write(data)); // equal delays: the bytes keep their order
          } else {
            inbound.write(data);
          }
        });
        inbound.closeHandler(v -> {
          open.remove(inbound);
          outbound.close();
        });
        outbound.closeHandler(v -> {
          open.remove(outbound);
          inbound.close();
        });
        inbound.resume();
      });
    });
  }

  CutProxy start() {
    server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().join();
    return this;
  }

  String url() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  void cutAll() {
    open.forEach(NetSocket::close);
  }

  void dropNextPostAnswer() {
    dropPostAnswer.set(true);
  }

  /** From now on, the edge's answers on a connection that carried a DELETE reach the client {@code ms} late. */
  void delayDeleteAnswers(long ms) {
    deleteAnswerDelayMs = ms;
  }

  void close() {
    server.close().toCompletionStage().toCompletableFuture().join();
    cutAll();
  }
}
