package dev.genmesh.config;

import dev.genmesh.config.impl.Node;
import java.util.Map;

/**
 * The edge router: where it listens, what it accepts, and its measured latency to each
 * region (the region picker prefers the lowest healthy one).
 */
public record EdgeConfig(
    String host,
    int port,
    int maxBodyBytes,
    int maxPromptChars,
    long regionHealthIntervalMs,
    long regionTimeoutMs,
    Map<String, Long> latencyMs) {

  public EdgeConfig withPort(int newPort) {
    return new EdgeConfig(host, newPort, maxBodyBytes, maxPromptChars, regionHealthIntervalMs, regionTimeoutMs, latencyMs);
  }

  static EdgeConfig read(Node n) {
    EdgeConfig config = new EdgeConfig(
        n.string("host"),
        n.integer("port", 0, 65535),
        n.integer("max_body_bytes", 1024, 16 * 1024 * 1024),
        n.integer("max_prompt_chars", 1, 100_000),
        n.integer("region_health_interval_ms", 100L, 3_600_000L),
        n.integer("region_timeout_ms", 100L, 600_000L),
        Map.copyOf(n.integers("latency_ms", 0, 60_000)));
    n.finish();
    return config;
  }
}
