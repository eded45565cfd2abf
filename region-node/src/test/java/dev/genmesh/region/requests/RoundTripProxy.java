package dev.genmesh.region.requests;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy for one client connection that counts the client's round trips: what the client sends
 * after an answer reached it starts a new one. Answers are held {@code replyDelayMs} before they go
 * on, so that what a client sends at once, without waiting (a pipeline of commands written in a row),
 * always arrives before the answer to its first part and counts once.
 */
final class RoundTripProxy implements Closeable {
  private final ServerSocket server;
  private final long replyDelayMs;
  private final AtomicLong roundTrips = new AtomicLong();
  private volatile boolean answered = true;

  private RoundTripProxy(ServerSocket server, long replyDelayMs) {
    this.server = server;
    this.replyDelayMs = replyDelayMs;
  }

  static RoundTripProxy start(int targetPort, long replyDelayMs) {
    try {
      ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      RoundTripProxy proxy = new RoundTripProxy(server, replyDelayMs);
      daemon(() -> proxy.accept(targetPort));
      return proxy;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  int port() {
    return server.getLocalPort();
  }

  /** Round trips the client made so far (its connection's start-up included). */
  long roundTrips() {
    return roundTrips.get();
  }

  @Override
  public void close() throws IOException {
    server.close();
  }

  private void accept(int targetPort) {
    try {
      Socket client = server.accept();
      Socket target = new Socket(InetAddress.getLoopbackAddress(), targetPort);
      daemon(() -> pump(client, target, true));
      daemon(() -> pump(target, client, false));
    } catch (IOException e) {
      // closed
    }
  }

  private void pump(Socket from, Socket to, boolean fromClient) {
    byte[] buffer = new byte[64 * 1024];
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        if (fromClient && answered) {
          answered = false;
          roundTrips.incrementAndGet();
        }
        if (!fromClient) {
          Thread.sleep(replyDelayMs);
          // Before the answer goes on, not after: the client may read it and send its next round
          // trip before this thread would have got past the write.
          answered = true;
        }
        out.write(buffer, 0, n);
        out.flush();
      }
    } catch (IOException | InterruptedException e) {
      // a side closed: close the other
    } finally {
      try {
        from.close();
        to.close();
      } catch (IOException e) {
        // nothing to do
      }
    }
  }

  private static void daemon(Runnable task) {
    Thread thread = new Thread(task, "round-trip-proxy");
    thread.setDaemon(true);
    thread.start();
  }
}
