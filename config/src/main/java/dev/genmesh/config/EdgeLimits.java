package dev.genmesh.config;

import dev.genmesh.config.impl.Node;

/**
 * What one client may hold at the edge, so that a slow or flooding client cannot keep others
 * out (edge-router/API.md, "Limits").
 *
 * @param keepAliveTimeoutMs from a response ending until the connection's next request's headers
 *     are in; past it the connection is closed
 * @param bodyTimeoutMs from a submit's headers until its whole body is in; past it 408
 * @param idleTimeoutMs a connection with nothing received (no complete request head, no body
 *     bytes) and nothing sent for this long is closed: this bounds a first request's headers too;
 *     event streams are pinged every third of it, so a quiet stream stays open
 * @param maxStreamsPerClient event-stream WebSockets one client holds at once (its API key's
 *     user, else its remote address); 429 beyond
 */
public record EdgeLimits(long keepAliveTimeoutMs, long bodyTimeoutMs, long idleTimeoutMs, int maxStreamsPerClient) {

  /** The defaults of genmesh-defaults.yaml, for code that builds an edge config by hand. */
  public static final EdgeLimits DEFAULTS = new EdgeLimits(10_000, 30_000, 30_000, 32);

  static EdgeLimits read(Node n) {
    EdgeLimits limits = new EdgeLimits(
        n.integer("keep_alive_timeout_ms", 100L, 600_000L),
        n.integer("body_timeout_ms", 100L, 600_000L),
        n.integer("idle_timeout_ms", 1_000L, 3_600_000L),
        n.integer("max_streams_per_client", 1, 100_000));
    n.finish();
    return limits;
  }

  /** How often the edge pings an open event stream: well inside the idle timeout. */
  public long streamPingIntervalMs() {
    return Math.max(100, idleTimeoutMs / 3);
  }
}
