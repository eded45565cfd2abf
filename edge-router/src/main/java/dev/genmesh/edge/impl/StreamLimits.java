package dev.genmesh.edge.impl;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How many event streams each client holds at once, bounded so that one client cannot take all
 * of the edge's sockets (and each stream's socket to a region). A client is its API key's user,
 * or its remote address when it sends no valid key (a browser's WebSocket cannot send one).
 */
public final class StreamLimits {
  private final int maxPerClient;
  private final Map<String, Integer> open = new ConcurrentHashMap<>();

  public StreamLimits(int maxPerClient) {
    this.maxPerClient = maxPerClient;
  }

  public int maxPerClient() {
    return maxPerClient;
  }

  /** Takes one of the client's places; false when it holds them all. Give it back with {@link #release}. */
  public boolean tryAcquire(String client) {
    boolean[] taken = {false};
    open.compute(client, (name, count) -> {
      int now = count == null ? 0 : count;
      if (now >= maxPerClient) {
        return count;
      }
      taken[0] = true;
      return now + 1;
    });
    return taken[0];
  }

  public void release(String client) {
    open.computeIfPresent(client, (name, count) -> count <= 1 ? null : count - 1);
  }

  /** Streams the client holds now. */
  public int open(String client) {
    return open.getOrDefault(client, 0);
  }
}
