package dev.genmesh.config;

import dev.genmesh.config.impl.Node;
import java.util.List;

/**
 * The safety gate every image passes before it is delivered (region-node/SAFETY.md).
 *
 * @param url the Safety API the region calls ({@code POST <url>/v1/check}); empty: the reference
 *     service genmesh ships, run next to the region node on {@code port}
 * @param port the reference service's port when {@code url} is empty; 0: any free port
 * @param timeoutMs bound on one check call
 * @param retryIntervalMs how often requests waiting in SAFETY_PENDING are checked again
 * @param alertAfterMs a request waiting this long in SAFETY_PENDING raises an alert
 * @param breakerFailures failed calls in a row that open the client's circuit breaker
 * @param breakerOpenMs how long it stays open before a trial call
 * @param blockedTerms the reference service's prompt rules: a prompt containing one of these
 *     words (case-insensitive, whole words) is blocked
 */
public record SafetyConfig(
    String url,
    int port,
    long timeoutMs,
    long retryIntervalMs,
    long alertAfterMs,
    int breakerFailures,
    long breakerOpenMs,
    List<String> blockedTerms) {

  public SafetyConfig {
    blockedTerms = List.copyOf(blockedTerms);
  }

  /** The defaults of genmesh-defaults.yaml, for code that builds a configuration by hand. */
  public static SafetyConfig defaults() {
    return new SafetyConfig("", 0, 5_000, 2_000, 300_000, 3, 10_000, List.of("gore", "beheading", "csam"));
  }

  public SafetyConfig withUrl(String newUrl) {
    return new SafetyConfig(newUrl, port, timeoutMs, retryIntervalMs, alertAfterMs, breakerFailures, breakerOpenMs,
        blockedTerms);
  }

  static SafetyConfig read(Node n) {
    SafetyConfig config = new SafetyConfig(
        n.string("url", ""),
        n.integer("port", 0, 65535, 0),
        n.integer("timeout_ms", 10L, 600_000L),
        n.integer("retry_interval_ms", 10L, 3_600_000L),
        n.integer("alert_after_ms", 10L, 86_400_000L),
        n.integer("breaker_failures", 1, 1000, 3),
        n.integer("breaker_open_ms", 10L, 3_600_000L),
        n.strings("blocked_terms", List.of()));
    n.finish();
    if (!config.url.isEmpty() && !config.url.matches("https?://.+")) {
      throw new ConfigException(n.keyPath("url"), "must be an http:// or https:// URL, got '" + config.url + "'");
    }
    return config;
  }
}
