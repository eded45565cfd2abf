package dev.genmesh.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy on a free loopback port in front of a real server, that a test (or a chaos experiment) makes slow or
 * unavailable: {@link #delayMs} holds what a client sends after a pause (the start of a request)
 * for that long before passing it on, so every request through it takes about that much longer;
 * {@link #down} closes every
 * connection and refuses new ones until {@link #up}. Blocking I/O on daemon threads: for the
 * fault tests and for the fault points of {@code genmesh up --chaos} (docs/chaos.md).
 */
public final class FaultProxy implements AutoCloseable {
  /** Client bytes after this much quiet are taken for a new request. */
  private static final long NEW_REQUEST_GAP_NANOS = 20_000_000;
  private final ServerSocket server;
  private final String targetHost;
  private volatile int targetPort;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile long delayMs;
  private volatile boolean down;
  private volatile boolean closed;

  private FaultProxy(ServerSocket server, String targetHost, int targetPort) {
    this.server = server;
    this.targetHost = targetHost;
    this.targetPort = targetPort;
  }

  /** A proxy to {@code host:port}, passing everything on at once until told otherwise. */
  public static FaultProxy start(String host, int port) {
    try {
      ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      FaultProxy proxy = new FaultProxy(server, host, port);
      daemon("fault-proxy-accept-" + server.getLocalPort(), proxy::accept);
      return proxy;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return server.getLocalPort();
  }

  /** {@code http://127.0.0.1:<port>}. */
  public String url() {
    return "http://127.0.0.1:" + port();
  }

  /**
   * Points new connections at another port of the same host (a server that started again on
   * another port); connections already open stay where they are.
   */
  public void retarget(int port) {
    targetPort = port;
  }

  public int targetPort() {
    return targetPort;
  }

  /** Holds what clients send this long before passing it on (0: no delay). */
  public void delayMs(long ms) {
    delayMs = ms;
  }

  /** Closes every connection and refuses new ones (they are accepted and closed at once). */
  public void down() {
    down = true;
    open.forEach(FaultProxy::closeQuietly);
    open.clear();
  }

  public void up() {
    down = false;
  }

  public long delayMs() {
    return delayMs;
  }

  public boolean isDown() {
    return down;
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(server);
    open.forEach(FaultProxy::closeQuietly);
  }

  private void accept() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      if (down) {
        closeQuietly(client);
        continue;
      }
      try {
        Socket target = new Socket(targetHost, targetPort);
        open.add(client);
        open.add(target);
        daemon("fault-proxy-up", () -> pump(client, target, true));
        daemon("fault-proxy-down", () -> pump(target, client, false));
      } catch (IOException e) {
        closeQuietly(client);
      }
    }
  }

  private void pump(Socket from, Socket to, boolean delayed) {
    byte[] buffer = new byte[64 * 1024];
    long lastChunk = 0;
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        long delay = delayMs;
        long now = System.nanoTime();
        // The first chunk after a pause starts a request: it waits; the rest of that request follows at once.
        if (delayed && delay > 0 && now - lastChunk > NEW_REQUEST_GAP_NANOS) {
          Thread.sleep(delay);
        }
        lastChunk = System.nanoTime();
        if (down) {
          break;
        }
        out.write(buffer, 0, n);
        out.flush();
      }
    } catch (IOException | InterruptedException e) {
      // a side closed (or the proxy went down): close the other
    } finally {
      closeQuietly(from);
      closeQuietly(to);
      open.remove(from);
      open.remove(to);
    }
  }

  private static void daemon(String name, Runnable task) {
    Thread thread = new Thread(task, name);
    thread.setDaemon(true);
    thread.start();
  }

  private static void closeQuietly(java.io.Closeable closeable) {
    try {
      closeable.close();
    } catch (IOException e) {
      // nothing to do
    }
  }
}
